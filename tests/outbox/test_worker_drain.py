"""Four `callpledge worker` processes on PostgreSQL drain 2,000 due nudges of 50 recruiters:
each recruiter gets one digest, every obligation is named in exactly one SMS, none twice."""

import signal
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from app.clock import FileClock
from app.models import (
    Obligation,
    OutboxItem,
    OutboxObligation,
    OutboxStatus,
)
from tests.outbox.helpers import posts
from tests.outbox.processes import callpledge, started, wait_until, worker_env
from tests.support.databases import TestDatabase
from tests.support.factories import T0, seed_due_obligations
from tests.support.fake_twilio import FakeTwilio

DUE = T0 + timedelta(minutes=2)
RECRUITERS, EACH = 50, 40


def seed(db: TestDatabase) -> None:
    """50 recruiters with 40 callers each, every first nudge due at DUE."""
    seed_due_obligations(db, recruiters=RECRUITERS, callers=EACH, due=DUE)


@pytest.mark.postgres_only
def test_four_workers_name_each_of_2000_due_obligations_in_exactly_one_sms(
    db: TestDatabase,
    fake_twilio: FakeTwilio,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = FileClock(tmp_path / "clock")
    clock.set(T0)  # nothing due while the workers start
    monkeypatch.setattr(fake_twilio, "now", clock.now)
    seed(db)
    env = worker_env(db, fake_twilio, clock.path)
    logs = [tmp_path / f"worker-{n}.log" for n in range(4)]
    workers = [callpledge("worker", env=env, log=log) for log in logs]
    wait_until(lambda: all(started(log) for log in logs), "the workers start")
    began = time.perf_counter()
    clock.set(DUE)
    wait_until(
        lambda: db.count(OutboxItem, OutboxItem.status == OutboxStatus.SENT) == RECRUITERS,
        "every digest is sent and recorded",
        timeout=60,
    )
    elapsed = time.perf_counter() - began
    time.sleep(0.5)  # a duplicate, if any were made, would show by now
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    assert [worker.wait(timeout=30) for worker in workers] == [0] * 4

    assert Counter(m["to"] for m in fake_twilio.messages) == {
        f"+1415{n:07d}": 1 for n in range(RECRUITERS)
    }
    assert posts(fake_twilio) == RECRUITERS and db.count(OutboxItem) == RECRUITERS
    named = Counter(link.obligation_id for link in db.all(OutboxObligation))
    obligations = db.all(Obligation)
    assert len(obligations) == RECRUITERS * EACH
    assert all(named[o.id] == 1 and o.reminders_sent == 1 for o in obligations)
    print(f"\n4 workers: {RECRUITERS * EACH} nudges in {RECRUITERS} digests, {elapsed:.1f} s")
