"""The JSON the ops API reads and writes. Times are ISO 8601 in UTC."""

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
)
from pydantic.json_schema import SkipJsonSchema, WithJsonSchema

from app.courtesy.texts import TEMPLATE_MOST
from app.courtesy.views import is_overdue
from app.models import CallerText, CloseReason, ObligationStatus
from app.obligations.queries import ObligationView

# Inputs far outside any real data are clamped here, so arithmetic on them cannot overflow.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def _in_utc(moment: datetime) -> datetime:
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 with an offset
        return EARLIEST if moment.year < 2000 else LATEST
    return min(max(utc, EARLIEST), LATEST)


def _iso_text(value: Any) -> Any:
    # Pydantic would also read a bare number as a Unix time; the API promises ISO 8601 only.
    if isinstance(value, str) and not _ISO_DATE.match(value):
        raise ValueError("must be an ISO 8601 time with an offset, e.g. 2026-01-05T10:00:00Z")
    return value


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]")
Instant = Annotated[AwareDatetime, BeforeValidator(_iso_text), AfterValidator(_in_utc)]


def _blank_is_none(value: Any) -> Any:
    return None if value == "" else value


# An optional time in a query: `?since=` left empty is the same as leaving it out.
OptionalInstant = Annotated[
    Instant | None,
    BeforeValidator(_blank_is_none),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date-time"},
                {"type": "string", "maxLength": 0, "description": "empty: not given"},
                {"type": "null"},
            ]
        }
    ),
]
PRINTABLE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
OneLine = Annotated[str, StringConstraints(pattern=r"^[^\x00-\x1f\x7f]*$")]
Number = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f]*$")]
ClockTime = Annotated[str, StringConstraints(pattern=r"^(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)$")]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WorkingHours = dict[Day, list[Annotated[list[ClockTime], Field(min_length=2, max_length=2)]]]
TimeZone = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+\-/]+$")
]
ClientIdentity = Annotated[
    str, StringConstraints(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
]
Slug = Annotated[
    str, StringConstraints(min_length=2, max_length=60, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
]
Name = Annotated[OneLine, StringConstraints(min_length=1, max_length=200)]
Duration = Annotated[str, StringConstraints(pattern=r"^(?:\d{1,7}[smhd])+$", max_length=40)]
CallerTemplate = Annotated[
    str, StringConstraints(min_length=1, max_length=TEMPLATE_MOST, pattern=PRINTABLE)
]
_TEMPLATE_HELP = (
    "the text-back, with {caller_name}, {recruiter}, {promise} and {team}; null: the default"
)

_HOURS_EXAMPLE = {"mon": [["09:00", "17:30"]], "tue": [["09:00", "12:00"], ["13:00", "17:30"]]}
T = "2026-01-05T10:00:00Z"


def examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(examples)})


class RecruiterCreate(BaseModel):
    model_config = ConfigDict(extra="forbid") | examples(
        {
            "name": "Alice Example",
            "mobile": "+14155550100",
            "line": "+15005550006",
            "timezone": "America/Los_Angeles",
            "working_hours": _HOURS_EXAMPLE,
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
    caller_text_template: CallerTemplate | None = Field(None, description=_TEMPLATE_HELP)


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
    caller_text_template: CallerTemplate | None = Field(None, description=_TEMPLATE_HELP)

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
            "working_hours": _HOURS_EXAMPLE,
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
    caller_text_template: str | None = Field(description=_TEMPLATE_HELP)


class RecruiterList(BaseModel):
    items: list[Recruiter]


class Voicemail(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    recording_url: str | None
    duration_seconds: int | None
    transcript: str | None
    created_at: datetime


class Event(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    kind: str
    actor: str = Field(description="twilio, worker, recruiter:ID, or an API token's name")
    detail: dict[str, Any] | None


_OBLIGATION_EXAMPLE: dict[str, Any] = {
    "id": 123,
    "recruiter_id": 7,
    "caller": "+447700900123",
    "caller_name": None,
    "status": "open",
    "opened_at": T,
    "last_missed_at": "2026-01-05T10:20:00Z",
    "missed_calls": 2,
    "voicemails": [
        {
            "recording_url": "https://api.twilio.com/2010-04-01/Accounts/AC…/Recordings/RE…",
            "duration_seconds": 14,
            "transcript": "Hi, it's Sam about the nurse role, please call back.",
            "created_at": T,
        }
    ],
    "reminders_sent": 1,
    "next_reminder_at": "2026-01-05T11:02:00Z",
    "snoozed_until": None,
    "escalated_at": None,
    "callback_attempts": 0,
    "sms_error_code": None,
    "closed_at": None,
    "close_reason": None,
    "promised_by": "2026-01-05T14:00:00Z",
    "overdue": False,
    "caller_text": "sent",
}


class Obligation(BaseModel):
    model_config = ConfigDict(from_attributes=True) | examples(_OBLIGATION_EXAMPLE)

    id: int
    recruiter_id: int
    caller: str | None = Field(description="E.164; null when the caller was withheld")
    caller_name: str | None
    status: ObligationStatus
    opened_at: datetime
    last_missed_at: datetime
    missed_calls: int
    voicemails: list[Voicemail]
    reminders_sent: int
    next_reminder_at: datetime | None
    snoozed_until: datetime | None
    escalated_at: datetime | None
    callback_attempts: int
    sms_error_code: int | None = Field(description="why the last nudge failed, e.g. 21610")
    closed_at: datetime | None
    close_reason: CloseReason | None
    promised_by: datetime | None = Field(
        description="when the recruiter pledged to call back: RETURN_WITHIN of working time "
        "after the call (null until the worker has seen it, or for a withheld caller)"
    )
    overdue: bool = Field(description="open and past promised_by")
    caller_text: CallerText | None = Field(
        description="the caller's text-back: pending, queued, sent, or why none was sent"
    )


class ObligationDetail(Obligation):
    model_config = examples(
        _OBLIGATION_EXAMPLE
        | {
            "events": [
                {"at": T, "kind": "opened", "actor": "twilio", "detail": {"call_sid": "CA…"}},
                {
                    "at": "2026-01-05T10:02:00Z",
                    "kind": "nudge_sent",
                    "actor": "worker",
                    "detail": None,
                },
            ]
        }
    )

    events: list[Event] = Field(description="the timeline, oldest first")


class ObligationPage(BaseModel):
    items: list[Obligation]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null: last")


class CloseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid") | examples({"note": "spoke to them by email"})

    note: Annotated[str, StringConstraints(max_length=500, pattern=PRINTABLE)] | None = None
    notify_caller: StrictBool | None = Field(
        None,
        description="text the caller that their message was picked up (default: CALLER_CLOSE_TEXT)",
    )


class SnoozeUntil(BaseModel):
    model_config = ConfigDict(extra="forbid") | examples({"until": "2026-01-06T09:00:00Z"})

    until: Instant


class SnoozeFor(BaseModel):
    model_config = ConfigDict(extra="forbid") | examples({"duration": "2h"})

    duration: Duration = Field(description="30s, 15m, 2h, 1d or a sum such as 1h30m")


class CallRequested(BaseModel):
    model_config = examples({"obligation_id": 123, "requested_at": T, "duplicate": False})

    obligation_id: int
    requested_at: datetime
    duplicate: bool = Field(description="true: the same request was made moments ago")


class CallRecord(BaseModel):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    call_sid: str
    direction: str
    from_number: str = Field(alias="from")
    to_number: str = Field(alias="to")
    status: str
    duration_seconds: int | None
    started_at: datetime
    recruiter_id: int | None
    obligation_id: int | None


class CallPage(BaseModel):
    model_config = examples(
        {
            "items": [
                {
                    "call_sid": "CA0123456789abcdef0123456789abcdef",
                    "direction": "inbound",
                    "from": "+447700900123",
                    "to": "+15005550006",
                    "status": "no-answer",
                    "duration_seconds": 0,
                    "started_at": T,
                    "recruiter_id": 7,
                    "obligation_id": 123,
                }
            ],
            "next_cursor": None,
        }
    )

    items: list[CallRecord]
    next_cursor: str | None


def obligation_out(view: ObligationView, *, now: datetime) -> Obligation:
    """The API's view of an obligation and its voicemails, overdue or not at `now`."""
    return Obligation.model_validate(_columns(view, now) | {"voicemails": view.voicemails})


def obligation_detail_out(view: ObligationView, *, now: datetime) -> ObligationDetail:
    """The API's view of an obligation, its voicemails and its timeline."""
    return ObligationDetail.model_validate(
        _columns(view, now) | {"voicemails": view.voicemails, "events": view.events}
    )


def _columns(view: ObligationView, now: datetime) -> dict[str, Any]:
    row = view.obligation
    columns = {column.key: getattr(row, column.key) for column in row.__table__.columns}
    return columns | {"overdue": is_overdue(row, now)}
