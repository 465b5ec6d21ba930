"""An obligation's timeline: who did what, when. Every line goes through `add_events`."""

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import values_for
from app.obligations.miss_sql import miss_statements
from app.webhooks.events import emit_for_timeline

TWILIO = "twilio"
WORKER = "worker"


def recruiter_actor(recruiter_id: int) -> str:
    return f"recruiter:{recruiter_id}"


class EventKind(StrEnum):
    OPENED = "opened"
    MISSED_CALL = "missed_call"
    VOICEMAIL = "voicemail"
    VOICEMAIL_ABSENT = "voicemail_absent"
    TRANSCRIPT = "transcript"
    TRANSCRIPT_FAILED = "transcript_failed"
    NUDGE_SENT = "nudge_sent"
    NUDGE_FAILED = "nudge_failed"
    ESCALATED = "escalated"
    CALLBACK_ATTEMPT = "callback_attempt"
    CALL_REQUESTED = "call_requested"
    CALL_FAILED = "call_failed"  # Twilio refused a click-to-call for good
    SNOOZED = "snoozed"
    CLOSED = "closed"
    CALLER_TEXT = "caller_text"  # the caller's text-back: queued, sent, or why none
    CALLER_SMS = "caller_sms"  # the caller texted the line while it was open


async def add_event(
    session: AsyncSession,
    *,
    obligation_id: int,
    at: datetime,
    kind: EventKind,
    actor: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one line to an obligation's timeline (flushing pending changes first)."""
    await add_events(
        session, obligation_ids=[obligation_id], at=at, kind=kind, actor=actor, detail=detail
    )


async def note(
    session: AsyncSession,
    obligation_id: int,
    kind: EventKind,
    *,
    actor: str,
    at: datetime,
    **detail: Any,
) -> None:
    """add_event's short form: one line on an obligation's timeline, its detail as keywords."""
    await add_event(
        session, obligation_id=obligation_id, at=at, kind=kind, actor=actor, detail=detail or None
    )


async def add_events(
    session: AsyncSession,
    *,
    obligation_ids: Sequence[int],
    at: datetime,
    kind: EventKind,
    actor: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """The same line on each obligation's timeline, in one statement (and its webhook event)."""
    if not obligation_ids:
        return
    await session.flush()
    line = {"at": at, "kind": kind.value, "actor": actor, "detail": detail}
    await session.execute(
        miss_statements(session).add_event,
        [values_for(line | {"obligation_id": obligation_id}) for obligation_id in obligation_ids],
    )
    await emit_for_timeline(
        session, kind=kind.value, obligation_ids=obligation_ids, at=at, detail=detail
    )
