"""The ops API's JSON for recruiters."""

from datetime import datetime
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
)
from pydantic.json_schema import SkipJsonSchema

from app.api.schemas.fields import (
    HOURS_EXAMPLE,
    TEMPLATE_HELP,
    CallerTemplate,
    ClientIdentity,
    Name,
    Number,
    Slug,
    T,
    TimeZone,
    WorkingHours,
    examples,
)


class RecruiterCreate(BaseModel):
    model_config = ConfigDict(extra="forbid") | examples(
        {
            "name": "Alice Example",
            "mobile": "+14155550100",
            "line": "+15005550006",
            "timezone": "America/Los_Angeles",
            "working_hours": HOURS_EXAMPLE,
            "escalation_number": "+14155550199",
            "client_identity": "alice",
        }
    )

    name: Name
    mobile: Number = Field(description="E.164, or as dialled in DEFAULT_REGION")
    line: Number = Field(description="the recruiter's Twilio number")
    timezone: TimeZone | None = Field(
        None, description="IANA name; DEFAULT_TIMEZONE if absent or null"
    )
    working_hours: WorkingHours | None = Field(None, description="null: nudges at any time")
    escalation_number: Number | None = None
    client_identity: ClientIdentity | None = Field(
        None, description="softphone identity: matches client:NAME and sip:NAME@…"
    )
    public_pledge: StrictBool = Field(False, description="publish the record at /pledge/SLUG")
    slug: Slug | None = Field(None, description="the public record's address, e.g. alice-example")
    caller_text: StrictBool | None = Field(None, description="text-backs to callers (default true)")
    caller_text_template: CallerTemplate | None = Field(None, description=TEMPLATE_HELP)


class RecruiterUpdate(BaseModel):
    """Only the fields sent change; `null` clears the optional ones."""

    model_config = ConfigDict(extra="forbid") | examples({"timezone": "Europe/London"})

    name: Name | SkipJsonSchema[None] = None
    mobile: Number | SkipJsonSchema[None] = None
    line: Number | SkipJsonSchema[None] = None
    timezone: TimeZone | None = Field(None, description="IANA name; null: DEFAULT_TIMEZONE")
    working_hours: WorkingHours | None = None
    escalation_number: Number | None = None
    client_identity: ClientIdentity | None = None
    public_pledge: StrictBool | SkipJsonSchema[None] = None
    slug: Slug | None = None
    caller_text: StrictBool | None = Field(None, description="null: true")
    caller_text_template: CallerTemplate | None = Field(None, description=TEMPLATE_HELP)

    def changes(self) -> dict[str, Any]:
        """The fields the client sent (a null for a required field is left to the service)."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class Recruiter(BaseModel):
    model_config = ConfigDict(from_attributes=True) | examples(
        {
            "id": 7,
            "name": "Alice Example",
            "mobile": "+14155550100",
            "line": "+15005550006",
            "timezone": "America/Los_Angeles",
            "working_hours": HOURS_EXAMPLE,
            "escalation_number": None,
            "client_identity": "alice",
            "active": True,
            "public_pledge": False,
            "slug": None,
            "sms_blocked_at": None,
            "sms_error_code": None,
            "created_at": T,
            "updated_at": T,
            "caller_text": True,
            "caller_text_template": None,
        }
    )

    id: int
    name: str
    mobile: str
    line: str
    timezone: str
    working_hours: dict[str, list[list[str]]] | None
    escalation_number: str | None
    client_identity: str | None
    active: bool
    public_pledge: bool
    slug: str | None
    sms_blocked_at: datetime | None = Field(description="set when SMS to the mobile are refused")
    sms_error_code: int | None = Field(description="Twilio's error, e.g. 21610 after STOP")
    created_at: datetime
    updated_at: datetime
    caller_text: bool = Field(description="whether callers get a text-back")
    caller_text_template: str | None = Field(description=TEMPLATE_HELP)


class RecruiterList(BaseModel):
    items: list[Recruiter]
