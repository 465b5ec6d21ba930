"""Building blocks of worker scenarios: missed calls, voicemails, what the fake received."""

import itertools
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.clock import ManualClock
from app.config import Settings
from app.db import unit_of_work
from app.models import OutboxItem, OutboxKind, OutboxStatus, Recruiter, Voicemail
from app.obligations.returns import record_miss
from app.obligations.service import CallFacts, open_for_withheld_voicemail
from app.outbox.service import enqueue
from app.outbox.worker import Worker
from app.reminders.policy import NudgePolicy
from tests.support.databases import TestDatabase
from tests.support.factories import T0, make_recruiter
from tests.support.fake_twilio import FakeTwilio

CALLER = "+447700900123"
Sessions = async_sessionmaker[AsyncSession]
_sids = itertools.count(1)


async def missed_call(
    sessions: Sessions,
    settings: Settings,
    recruiter: Recruiter,
    *,
    at: datetime,
    caller: str | None = CALLER,
    caller_name: str | None = None,
    call_sid: str | None = None,
) -> int | None:
    """Record a missed call from `caller` to the recruiter's line; the obligation's id."""
    async with unit_of_work(sessions) as session:
        result = await record_miss(
            session,
            call=CallFacts(
                call_sid=call_sid or f"CA{next(_sids):032d}",
                direction="inbound",
                from_number=caller or "anonymous",
                to_number=recruiter.line,
                status="no-answer",
                at=at,
                recruiter_id=recruiter.id,
                caller_name=caller_name,
            ),
            recruiter_id=recruiter.id,
            caller=caller,
            policy=NudgePolicy.of(settings),
        )
    return result.obligation_id


async def first_nudge(
    db: TestDatabase, sessions: Sessions, settings: Settings, clock: ManualClock, **fields: Any
) -> Recruiter:
    """A recruiter (made with `fields`) whose first nudge is due now: missed at T0, now T0+2m."""
    recruiter = make_recruiter(db, **fields)
    await missed_call(sessions, settings, recruiter, at=T0)
    clock.set(T0 + timedelta(minutes=2))
    return recruiter


async def sent_nudge(db: TestDatabase, worker: Worker) -> OutboxItem:
    """Run a pass that sends the one due nudge; its outbox item, as sent."""
    await worker.run_once()
    item: OutboxItem = db.one(OutboxItem)
    assert item.status is OutboxStatus.SENT
    return item


def report(item: OutboxItem, status: str, **extra: str) -> dict[str, str]:
    """The parameters of Twilio's delivery report for `item`, with `extra` ones (ErrorCode)."""
    return {
        "MessageSid": item.twilio_sid or "",
        "MessageStatus": status,
        "SmsStatus": status,
        "To": item.to_number,
        "From": item.from_number or "",
        "AccountSid": "AC" + "f" * 32,
    } | extra


async def voicemail(
    sessions: Sessions, *, obligation_id: int, call_sid: str, at: datetime, transcript: str | None
) -> None:
    async with unit_of_work(sessions) as session:
        session.add(
            Voicemail(
                recording_sid=f"RE{next(_sids):032d}",
                call_sid=call_sid,
                obligation_id=obligation_id,
                recording_url="https://api.twilio.com/recording",
                duration_seconds=12,
                recording_status="completed",
                transcript=transcript,
                transcript_status=None if transcript is None else "completed",
                created_at=at,
                updated_at=at,
            )
        )


async def withheld_voicemail(
    sessions: Sessions,
    settings: Settings,
    recruiter: Recruiter,
    *,
    at: datetime,
    transcript: str | None,
) -> int:
    """A withheld caller's missed call and voicemail; the caller-less obligation's id."""
    call_sid = f"CA{next(_sids):032d}"
    await missed_call(sessions, settings, recruiter, at=at, caller=None, call_sid=call_sid)
    async with unit_of_work(sessions) as session:
        obligation_id = await open_for_withheld_voicemail(
            session,
            call_sid=call_sid,
            recruiter_id=recruiter.id,
            at=at,
            policy=NudgePolicy.of(settings),
        )
    await voicemail(
        sessions, obligation_id=obligation_id, call_sid=call_sid, at=at, transcript=transcript
    )
    return obligation_id


def sms_to(fake: FakeTwilio, number: str) -> list[dict[str, Any]]:
    """The messages the fake holds for `number`, oldest first."""
    return [m for m in fake.messages if m["to"] == number]


def posts(fake: FakeTwilio, collection: str = "Messages") -> int:
    """How many create requests reached the fake for `collection`."""
    return sum(
        1 for r in fake.requests if r.method == "POST" and r.path.endswith(f"/{collection}.json")
    )


async def queue_call(sessions: Sessions, recruiter: Recruiter, at: Any) -> int:
    """A click-to-call item, as the CALL command queues it: ring the recruiter first."""
    async with unit_of_work(sessions) as session:
        outbox_id = await enqueue(
            session,
            key=f"call:test:{at.isoformat()}",
            kind=OutboxKind.CALL,
            purpose="click_to_call",
            to_number=recruiter.mobile,
            sender=recruiter,
            call_target=CALLER,
            at=at,
        )
    assert outbox_id is not None
    return outbox_id
