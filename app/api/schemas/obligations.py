"""The ops API's JSON for obligations, their timelines and voicemails."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
)

from app.api.schemas.fields import PRINTABLE, Duration, Instant, T, examples
from app.courtesy.views import is_overdue
from app.models import CallerText, CloseReason, ObligationStatus
from app.obligations.queries import ObligationView


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
