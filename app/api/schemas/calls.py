"""The ops API's JSON for the call log."""

from datetime import datetime

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
)

from app.api.schemas.fields import T, examples


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
