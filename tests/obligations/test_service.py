"""Obligations: one open per recruiter and caller, counted once per CallSid, in any order."""

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import unit_of_work
from app.models import Call, CloseReason, Obligation, ObligationEvent, ObligationStatus
from app.obligations.returns import record_miss
from app.obligations.service import (
    CallFacts,
    close,
    locked,
    open_for,
    record_attempt,
    snooze,
)
from app.reminders.policy import NudgePolicy
from tests.support.databases import TestDatabase
from tests.support.factories import T0, make_recruiter

POLICY = NudgePolicy((timedelta(minutes=2), timedelta(hours=1), timedelta(hours=4)), 10, 3)
CALLER = "+447700900123"
Sessions = async_sessionmaker[AsyncSession]


def facts(sid: str, at=T0, caller: str = CALLER, **extra) -> CallFacts:
    return CallFacts(
        call_sid=sid,
        direction="inbound",
        from_number=caller,
        to_number="+15005550006",
        status="completed",
        at=at,
        **extra,
    )


async def miss(sessions: Sessions, recruiter_id: int, sid: str, at=T0, caller: str | None = CALLER):
    async with unit_of_work(sessions) as session:
        return await record_miss(
            session,
            call=facts(sid, at, caller or "anonymous"),
            recruiter_id=recruiter_id,
            caller=caller,
            policy=POLICY,
        )


async def test_a_first_miss_opens_an_obligation(db: TestDatabase, sessions: Sessions) -> None:
    recruiter = make_recruiter(db)
    result = await miss(sessions, recruiter.id, "CA1")
    obligation = db.one(Obligation)
    assert result.counted and result.obligation_id == obligation.id
    assert (obligation.status, obligation.caller, obligation.missed_calls) == (
        ObligationStatus.OPEN,
        CALLER,
        1,
    )
    assert obligation.next_reminder_at == T0 + timedelta(minutes=2)
    assert [e.kind for e in db.all(ObligationEvent)] == ["opened"]
    assert db.one(Call).obligation_id == obligation.id


async def test_the_same_callsid_counts_once(db: TestDatabase, sessions: Sessions) -> None:
    recruiter = make_recruiter(db)
    for _ in range(3):
        await miss(sessions, recruiter.id, "CA1")
    assert db.one(Obligation).missed_calls == 1
    assert db.count(ObligationEvent) == 1


async def test_a_repeat_call_raises_the_count_and_pulls_the_nudge_forward(
    db: TestDatabase, sessions: Sessions
) -> None:
    recruiter = make_recruiter(db)
    await miss(sessions, recruiter.id, "CA1")
    with db.session() as s:
        s.get(Obligation, 1).next_reminder_at = T0 + timedelta(hours=3)
        s.commit()
    await miss(sessions, recruiter.id, "CA2", at=T0 + timedelta(hours=1))
    obligation = db.one(Obligation)
    assert obligation.missed_calls == 2
    assert obligation.last_missed_at == T0 + timedelta(hours=1)
    assert obligation.next_reminder_at == T0 + timedelta(hours=1, minutes=2)
    assert [e.kind for e in db.all(ObligationEvent)] == ["opened", "missed_call"]


async def test_a_repeat_call_does_not_push_a_nudge_back(
    db: TestDatabase, sessions: Sessions
) -> None:
    recruiter = make_recruiter(db)
    await miss(sessions, recruiter.id, "CA1")
    await miss(sessions, recruiter.id, "CA2", at=T0 + timedelta(minutes=1))
    assert db.one(Obligation).next_reminder_at == T0 + timedelta(minutes=2)


async def test_a_repeat_call_does_not_break_a_snooze(db: TestDatabase, sessions: Sessions) -> None:
    recruiter = make_recruiter(db)
    await miss(sessions, recruiter.id, "CA1")
    async with unit_of_work(sessions) as session:
        await snooze(
            session,
            obligation=await locked(session, 1),
            until=T0 + timedelta(hours=2),
            actor="ops",
            at=T0,
        )
    await miss(sessions, recruiter.id, "CA2", at=T0 + timedelta(minutes=10))
    assert db.one(Obligation).next_reminder_at == T0 + timedelta(hours=2)


async def test_a_withheld_caller_is_logged_but_opens_nothing(
    db: TestDatabase, sessions: Sessions
) -> None:
    recruiter = make_recruiter(db)
    result = await miss(sessions, recruiter.id, "CA1", caller=None)
    assert result.counted and result.obligation_id is None
    assert db.count(Obligation) == 0
    assert db.one(Call).missed_at == T0


async def test_after_closing_the_same_caller_opens_a_new_one(
    db: TestDatabase, sessions: Sessions
) -> None:
    recruiter = make_recruiter(db)
    await miss(sessions, recruiter.id, "CA1")
    async with unit_of_work(sessions) as session:
        assert await close(
            session,
            obligation=await locked(session, 1),
            reason=CloseReason.CALLBACK,
            actor="recruiter:1",
            at=T0 + timedelta(minutes=30),
        )
    await miss(sessions, recruiter.id, "CA2", at=T0 + timedelta(hours=1))
    assert [(o.status, o.missed_calls) for o in db.all(Obligation)] == [
        (ObligationStatus.CLOSED, 1),
        (ObligationStatus.OPEN, 1),
    ]


async def test_a_miss_reported_after_a_later_close_joins_the_closed_one(
    db: TestDatabase, sessions: Sessions
) -> None:
    recruiter = make_recruiter(db)
    await miss(sessions, recruiter.id, "CA1")
    async with unit_of_work(sessions) as session:
        await close(
            session,
            obligation=await locked(session, 1),
            reason=CloseReason.ANSWERED,
            actor="twilio",
            at=T0 + timedelta(minutes=30),
        )
    await miss(sessions, recruiter.id, "CA-late", at=T0 + timedelta(minutes=5))
    obligation = db.one(Obligation)
    assert (obligation.status, obligation.missed_calls) == (ObligationStatus.CLOSED, 2)


async def test_closing_records_reason_time_to_close_and_stops_nudges(
    db: TestDatabase, sessions: Sessions
) -> None:
    recruiter = make_recruiter(db)
    await miss(sessions, recruiter.id, "CA1")
    async with unit_of_work(sessions) as session:
        obligation = await locked(session, 1)
        assert await close(
            session,
            obligation=obligation,
            reason=CloseReason.OPS,
            actor="ann",
            at=T0 + timedelta(minutes=90),
            detail={"note": "done"},
        )
        assert not await close(
            session,
            obligation=obligation,
            reason=CloseReason.OPS,
            actor="ann",
            at=T0 + timedelta(minutes=95),
        )
    obligation = db.one(Obligation)
    assert (obligation.close_reason, obligation.seconds_to_close) == (CloseReason.OPS, 5400)
    assert obligation.next_reminder_at is None
    closed = db.all(ObligationEvent)[-1]
    assert (closed.kind, closed.actor, closed.detail) == (
        "closed",
        "ann",
        {"reason": "ops", "note": "done"},
    )


async def test_snoozing_a_closed_obligation_is_a_conflict(
    db: TestDatabase, sessions: Sessions
) -> None:
    from app.errors import Conflict

    recruiter = make_recruiter(db)
    await miss(sessions, recruiter.id, "CA1")
    async with unit_of_work(sessions) as session:
        obligation = await locked(session, 1)
        await close(session, obligation=obligation, reason=CloseReason.OPS, actor="a", at=T0)
        with pytest.raises(Conflict):
            await snooze(
                session, obligation=obligation, until=T0 + timedelta(hours=1), actor="a", at=T0
            )


async def test_an_unanswered_attempt_moves_the_nudge_by_the_current_gap(
    db: TestDatabase, sessions: Sessions
) -> None:
    recruiter = make_recruiter(db)
    await miss(sessions, recruiter.id, "CA1")
    with db.session() as s:
        s.get(Obligation, 1).reminders_sent = 1
        s.commit()
    async with unit_of_work(sessions) as session:
        found = await open_for(session, recruiter_id=recruiter.id, caller=CALLER)
        assert found is not None
        await record_attempt(
            session,
            obligation=found,
            at=T0 + timedelta(minutes=10),
            outcome="no-answer",
            call_sid="CA9",
            actor="recruiter:1",
            policy=POLICY,
        )
    obligation = db.one(Obligation)
    assert obligation.status is ObligationStatus.OPEN and obligation.callback_attempts == 1
    assert obligation.next_reminder_at == T0 + timedelta(minutes=10, hours=1)


async def test_ten_concurrent_deliveries_of_one_callback_count_once(
    db: TestDatabase, sessions: Sessions
) -> None:
    recruiter = make_recruiter(db)
    await asyncio.gather(*(miss(sessions, recruiter.id, "CA1") for _ in range(10)))
    assert db.one(Obligation).missed_calls == 1
    assert db.count(ObligationEvent) == 1


async def test_twenty_concurrent_missed_calls_make_one_obligation(
    db: TestDatabase, sessions: Sessions
) -> None:
    recruiter = make_recruiter(db)
    await asyncio.gather(*(miss(sessions, recruiter.id, f"CA{n}") for n in range(20)))
    assert db.one(Obligation).missed_calls == 20
    assert db.count(ObligationEvent) == 20


async def test_misses_keep_opening_once_the_driver_prepares_the_upsert(
    db: TestDatabase, sessions: Sessions
) -> None:
    # psycopg prepares a statement once a connection has run it a few times; the
    # partial-index upsert must still find its index then.
    recruiter = make_recruiter(db)
    for n in range(30):
        await miss(sessions, recruiter.id, f"CA{n}", caller=f"+4477009001{n:02d}")
    assert db.count(Obligation) == 30
