"""Nudges go out on the REMINDER_SCHEDULE gaps, and stop at close, at REMINDER_MAX, and while
snoozed; a repeat call and an unanswered callback move them as the contract says."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.clock import ManualClock
from app.config import Settings
from app.db import unit_of_work
from app.models import CloseReason, Obligation, ObligationEvent
from app.obligations.service import close, locked, record_attempt, snooze
from app.outbox.worker import Worker
from app.reminders.policy import NudgePolicy
from tests.outbox.helpers import Sessions, first_nudge, missed_call, sms_to
from tests.support.databases import TestDatabase
from tests.support.factories import T0, make_recruiter
from tests.support.fake_twilio import FakeTwilio

MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)


async def sent_at(
    worker: Worker, clock: ManualClock, fake: FakeTwilio, mobile: str, at: datetime
) -> bool:
    """Run a pass just before `at` (nothing may go) and at `at`; whether one nudge went then."""
    clock.set(at - timedelta(seconds=1))
    before = len(sms_to(fake, mobile))
    await worker.run_once()
    assert len(sms_to(fake, mobile)) == before, f"a nudge went before {at}"
    clock.set(at)
    await worker.run_once()
    return len(sms_to(fake, mobile)) == before + 1


async def test_nudges_follow_the_gaps_and_the_last_gap_repeats(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    recruiter = make_recruiter(db)
    await missed_call(sessions, settings, recruiter, at=T0)
    due = T0
    for gap in (2 * MINUTE, HOUR, 4 * HOUR, DAY, DAY):
        due += gap
        assert await sent_at(worker, clock, fake_twilio, recruiter.mobile, due)
    messages = sms_to(fake_twilio, recruiter.mobile)
    assert {m["from"] for m in messages} == {recruiter.line}
    obligation = db.one(Obligation)
    assert obligation.reminders_sent == 5 and obligation.next_reminder_at == due + DAY
    events = db.all(ObligationEvent, ObligationEvent.kind == "nudge_sent")
    assert [e.detail["n"] for e in events] == [1, 2, 3, 4, 5]


async def test_the_nudge_names_the_caller_and_the_reply_commands(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    recruiter = make_recruiter(db)
    obligation_id = await missed_call(sessions, settings, recruiter, at=T0, caller_name="JANE DOE")
    clock.set(T0 + 2 * MINUTE)
    await worker.run_once()
    [message] = sms_to(fake_twilio, recruiter.mobile)
    assert message["body"] == (
        # The promise (app/courtesy): RETURN_WITHIN 4h after the call, no working hours.
        f"#{obligation_id} Call back JANE DOE +44 7700 900123: missed call 2m ago. "
        f"Due by 14:00.\n"
        f"Reply DONE {obligation_id}, SNOOZE {obligation_id} 2h or CALL {obligation_id}"
    )


async def test_closing_stops_the_nudges(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    recruiter = make_recruiter(db)
    obligation_id = await missed_call(sessions, settings, recruiter, at=T0)
    assert await sent_at(worker, clock, fake_twilio, recruiter.mobile, T0 + 2 * MINUTE)
    async with unit_of_work(sessions) as session:
        await close(
            session,
            obligation=await locked(session, obligation_id),
            reason=CloseReason.CALLBACK,
            actor="twilio",
            at=T0 + 10 * MINUTE,
        )
    for later in (HOUR, DAY, 7 * DAY):
        clock.set(T0 + later)
        await worker.run_once()
    assert len(sms_to(fake_twilio, recruiter.mobile)) == 1


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    return getattr(request, "param", {})


@pytest.mark.parametrize("settings_overrides", [{"reminder_max": 3}], indirect=True)
async def test_nudges_stop_at_reminder_max(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    recruiter = make_recruiter(db)
    await missed_call(sessions, settings, recruiter, at=T0)
    for hours in range(0, 24 * 14, 6):
        clock.set(T0 + timedelta(hours=hours, minutes=2))
        await worker.run_once()
    assert len(sms_to(fake_twilio, recruiter.mobile)) == 3
    obligation = db.one(Obligation)
    assert obligation.reminders_sent == 3 and obligation.next_reminder_at is None


async def test_no_nudge_goes_while_snoozed_and_the_next_goes_when_it_ends(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    recruiter = make_recruiter(db)
    obligation_id = await missed_call(sessions, settings, recruiter, at=T0)
    async with unit_of_work(sessions) as session:
        await snooze(
            session,
            obligation=await locked(session, obligation_id),
            until=T0 + 3 * HOUR,
            actor="recruiter:1",
            at=T0 + MINUTE,
        )
    assert await sent_at(worker, clock, fake_twilio, recruiter.mobile, T0 + 3 * HOUR)
    assert db.one(Obligation).next_reminder_at == T0 + 4 * HOUR


async def test_a_repeat_call_brings_the_next_nudge_forward(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    recruiter = make_recruiter(db)
    await missed_call(sessions, settings, recruiter, at=T0)
    assert await sent_at(worker, clock, fake_twilio, recruiter.mobile, T0 + 2 * MINUTE)
    await missed_call(sessions, settings, recruiter, at=T0 + 10 * MINUTE)
    # Due an hour after the first nudge; the caller chasing brings it to one first gap later.
    assert await sent_at(worker, clock, fake_twilio, recruiter.mobile, T0 + 12 * MINUTE)
    assert (
        "2 missed calls, first 12m ago, last 2m ago"
        in sms_to(fake_twilio, recruiter.mobile)[1]["body"]
    )
    # The step advanced: the next gap is the third (4h).
    assert db.one(Obligation).next_reminder_at == T0 + 12 * MINUTE + 4 * HOUR


async def test_an_unanswered_callback_moves_the_next_nudge_without_advancing_the_step(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    recruiter = make_recruiter(db)
    obligation_id = await missed_call(sessions, settings, recruiter, at=T0)
    assert await sent_at(worker, clock, fake_twilio, recruiter.mobile, T0 + 2 * MINUTE)
    async with unit_of_work(sessions) as session:
        await record_attempt(
            session,
            obligation=await locked(session, obligation_id),
            at=T0 + 30 * MINUTE,
            outcome="no-answer",
            call_sid="CAattempt",
            actor="recruiter:1",
            policy=NudgePolicy.of(settings),
        )
    clock.set(T0 + 2 * MINUTE + HOUR)  # when it was due before the attempt
    await worker.run_once()
    assert len(sms_to(fake_twilio, recruiter.mobile)) == 1
    assert await sent_at(worker, clock, fake_twilio, recruiter.mobile, T0 + 30 * MINUTE + HOUR)


async def test_a_deactivated_recruiter_is_not_nudged(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    recruiter = make_recruiter(db, active=False)
    await missed_call(sessions, settings, recruiter, at=T0)
    clock.set(T0 + DAY)
    await worker.run_once()
    assert fake_twilio.messages == []


async def test_several_recruiters_are_nudged_in_one_pass(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    recruiters = [await first_nudge(db, sessions, settings, clock) for _ in range(60)]
    result = await worker.run_once()
    assert (result.queued, result.sent) == (60, 60)
    assert sorted(m["to"] for m in fake_twilio.messages) == sorted(r.mobile for r in recruiters)


def test_the_clock_in_these_tests_starts_on_a_monday() -> None:
    assert T0 == datetime(2026, 1, 5, 10, 0, tzinfo=UTC) and T0.weekday() == 0
