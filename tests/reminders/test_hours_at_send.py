"""Working hours hold when a reminder is sent, not only when it is queued."""

from datetime import timedelta

from app.clock import ManualClock
from app.config import Settings
from app.db import unit_of_work
from app.models import OutboxItem, OutboxKind, OutboxStatus
from app.outbox.sender import SENDING_LEASE
from app.outbox.service import enqueue
from app.outbox.worker import Worker
from app.reminders.queue import Nudging, queue_due_nudges
from tests.outbox.helpers import Sessions, first_nudge, posts, sms_to
from tests.support.databases import TestDatabase
from tests.support.factories import T0, make_recruiter
from tests.support.fake_twilio import FakeTwilio

MINUTE = timedelta(minutes=1)
# T0 is Monday 5 January 2026, 10:00 UTC: the first nudge is queued at 10:02, in hours.
UNTIL_TEN_THREE = {"mon": [["09:00", "10:03"]]}
NEXT_MONDAY = T0 + timedelta(days=7) - timedelta(hours=1)  # 12 January, 09:00


async def test_a_nudge_retried_after_hours_end_waits_for_the_next_working_period(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    recruiter = await first_nudge(db, sessions, settings, clock, working_hours=UNTIL_TEN_THREE)
    fake_twilio.fail_next(status=503, method="POST")
    await worker.run_once()
    clock.advance(5 * MINUTE)
    await worker.run_once()
    assert fake_twilio.messages == []
    [nudge] = db.all(OutboxItem)
    assert (nudge.status, nudge.attempts, nudge.next_attempt_at) == (
        OutboxStatus.PENDING,
        1,
        NEXT_MONDAY,
    )
    clock.set(NEXT_MONDAY)
    await worker.run_once()
    sent = db.one(OutboxItem, OutboxItem.id == nudge.id)
    assert (sent.status, sent.attempts, sent.sent_at) == (OutboxStatus.SENT, 2, NEXT_MONDAY)
    assert [m["body"] for m in sms_to(fake_twilio, recruiter.mobile)].count(nudge.body) == 1


async def test_a_nudge_a_crashed_worker_left_unsent_waits_for_working_hours_too(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    await first_nudge(db, sessions, settings, clock, working_hours=UNTIL_TEN_THREE)
    await queue_due_nudges(
        worker.runtime.sessions, nudging=Nudging.of(settings), now=clock.now, stopping=lambda: False
    )
    with db.session() as session:
        item = session.query(OutboxItem).one()
        item.status, item.attempts = OutboxStatus.SENDING, 1
        item.claimed_at, item.claimed_by = clock.now(), "dead-worker"
        session.commit()
    clock.advance(SENDING_LEASE + MINUTE)
    await worker.run_once()
    assert posts(fake_twilio) == 0
    deferred = db.one(OutboxItem)
    assert (deferred.status, deferred.attempts, deferred.claimed_by) == (
        OutboxStatus.PENDING,
        1,
        None,
    )
    clock.set(NEXT_MONDAY)
    await worker.run_once()
    assert db.one(OutboxItem, OutboxItem.id == item.id).sent_at == NEXT_MONDAY


async def test_a_relayed_text_is_no_reminder_and_goes_out_at_any_hour(
    db: TestDatabase,
    sessions: Sessions,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    recruiter = make_recruiter(db, working_hours=UNTIL_TEN_THREE)
    clock.set(T0 + timedelta(hours=12))
    async with unit_of_work(sessions) as session:
        await enqueue(
            session,
            key="relay:SM1",
            kind=OutboxKind.SMS,
            purpose="relay",
            to_number=recruiter.mobile,
            sender=recruiter,
            body="SMS from +44 7700 900456: are you there?",
            at=clock.now(),
        )
    await worker.run_once()
    assert len(sms_to(fake_twilio, recruiter.mobile)) == 1
