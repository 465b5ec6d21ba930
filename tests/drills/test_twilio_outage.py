"""The Twilio API away for a minute while nudges fall due: first connection refused, then
one SMS taken whose answer is lost, then 503s. Nudges wait (retried with backoff, none
lost, none given up on) and each goes out exactly once when it is back. Time is the
test's clock, so the minute takes a second or two.
"""

import re
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from app.clock import ManualClock
from app.config import Settings
from app.models import Obligation, ObligationEvent, OutboxItem, OutboxStatus
from app.outbox.worker import Worker
from app.runtime import Runtime
from tests.outbox.helpers import Sessions, missed_call, posts
from tests.support.databases import TestDatabase
from tests.support.factories import T0, make_recruiter
from tests.support.fake_twilio import FakeTwilio
from tests.support.loop_fixtures import dates_follow_the_clock  # noqa: F401 - a fixture

FIRST_GAP = timedelta(minutes=2)
RETRY_CAP = timedelta(seconds=20)
STEP = timedelta(seconds=2)  # the worker's poll, in the test's time
REFUSED_FOR = timedelta(seconds=40)  # connection refused, then...
ANSWERING_503 = timedelta(seconds=25)  # ...every request answered 503
CALLERS = [f"+4477009{n:05d}" for n in range(100, 110)]


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"retry_max_backoff": "20s"}


@pytest.fixture
async def worker(settings: Settings, clock: ManualClock) -> AsyncIterator[Worker]:
    runtime = Runtime.start(settings, clock)
    yield Worker(runtime, name="drill-worker")
    await runtime.stop()


async def nudges_falling_due_in_the_outage(
    db: TestDatabase, sessions: Sessions, settings: Settings
) -> list[int]:
    """Ten obligations whose first nudges fall due one after another over the outage; the
    last recruiter has three at once (a digest)."""
    obligations = []
    for n, caller in enumerate(CALLERS[:7]):
        recruiter = make_recruiter(db)
        at = T0 + n * timedelta(seconds=10)
        obligations.append(await missed_call(sessions, settings, recruiter, at=at, caller=caller))
    busy = make_recruiter(db)
    for caller in CALLERS[7:]:
        at = T0 + timedelta(seconds=30)
        obligations.append(await missed_call(sessions, settings, busy, at=at, caller=caller))
    return [o for o in obligations if o is not None]


def mentioned(fake: FakeTwilio) -> Counter[int]:
    """How many SMS named each obligation (`#id`), across everything the fake holds."""
    return Counter(int(n) for m in fake.messages for n in re.findall(r"#(\d+)\b", m["body"]))


def assert_waiting(db: TestDatabase, now: datetime) -> None:
    """Nothing given up on; every retry within the backoff cap."""
    items = db.all(OutboxItem)
    assert {i.status for i in items} <= {OutboxStatus.PENDING}, [i.status for i in items]
    assert max((i.next_attempt_at for i in items), default=now) <= now + RETRY_CAP


async def test_nudges_wait_out_a_twilio_outage_and_then_go_out_exactly_once(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    obligations = await nudges_falling_due_in_the_outage(db, sessions, settings)
    outage = T0 + FIRST_GAP - STEP
    clock.set(outage)
    fake_twilio.down()
    while clock.now() < outage + REFUSED_FOR:
        await worker.run_once()
        assert_waiting(db, clock.now())
        clock.advance(STEP)
    refused_attempts = sum(i.attempts for i in db.all(OutboxItem))

    fake_twilio.up()
    # As it comes back, Twilio takes one SMS but the answer is lost; then it answers 503.
    fake_twilio.fail_next(accept=True, drop=True, method="POST")
    fake_twilio.fail_next(times=10_000, status=503)
    while clock.now() < outage + REFUSED_FOR + ANSWERING_503:
        await worker.run_once()
        assert_waiting(db, clock.now())
        assert len(fake_twilio.messages) <= 1
        clock.advance(STEP)
    answered_503 = len(fake_twilio.requests) - 1
    fake_twilio.failures.clear()

    for _ in range(int(RETRY_CAP / STEP) + 1):  # the longest wait once it is back
        await worker.run_once()
        clock.advance(STEP)

    print(
        f"\n{len(obligations)} nudges; {refused_attempts} attempts refused, {answered_503} "
        f"answered 503; {posts(fake_twilio)} POSTs of SMS once up, "
        f"{len(fake_twilio.messages)} SMS sent"
    )
    assert mentioned(fake_twilio) == Counter({o: 1 for o in obligations})
    items = db.all(OutboxItem)
    assert {i.status for i in items} == {OutboxStatus.SENT}
    assert all(i.attempts >= 2 for i in items), "each was tried while Twilio was away"
    assert all(o.reminders_sent == 1 for o in db.all(Obligation))
    assert db.count(ObligationEvent, ObligationEvent.kind == "nudge_failed") == 0
