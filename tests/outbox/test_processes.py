"""Real worker processes: killed mid-send, stopped with SIGTERM, run alone on SQLite, and run
four at a time on PostgreSQL — every nudge goes out exactly once."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from app.clock import FileClock
from app.config import Settings
from app.models import OutboxItem, OutboxStatus
from app.outbox.lock import lock_path
from app.outbox.sender import IN_FLIGHT, SENDING_LEASE
from tests.cli.test_process import free_port
from tests.outbox.helpers import Sessions, missed_call, posts, sms_to
from tests.outbox.processes import callpledge, started, wait_until, worker_env
from tests.support.databases import TestDatabase
from tests.support.factories import T0, make_obligation, make_recruiter, seed_due_obligations
from tests.support.fake_twilio import FakeTwilio

DUE = T0 + timedelta(minutes=2)


@pytest.fixture
def file_clock(
    tmp_path: Path, fake_twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> FileClock:
    """A clock the test and its worker processes share, set when the first nudge is due."""
    clock = FileClock(tmp_path / "clock")
    clock.set(DUE)
    monkeypatch.setattr(fake_twilio, "now", clock.now)
    return clock


def status(db: TestDatabase) -> OutboxStatus:
    item: OutboxItem = db.one(OutboxItem)
    return item.status


@pytest.mark.parametrize("twilio_took_it", [False, True], ids=["before-twilio", "after-twilio"])
async def test_a_worker_killed_between_claim_and_send_sends_the_nudge_once_after_restart(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    fake_twilio: FakeTwilio,
    file_clock: FileClock,
    tmp_path: Path,
    twilio_took_it: bool,
) -> None:
    recruiter = make_recruiter(db)
    await missed_call(sessions, settings, recruiter, at=T0)
    # The request hangs at Twilio (taken or not), so the worker is caught mid-send.
    fake_twilio.fail_next(stall=True, drop=True, accept=twilio_took_it, method="POST")
    env = worker_env(db, fake_twilio, file_clock.path)
    first = callpledge("worker", env=env, log=tmp_path / "first.log")
    wait_until(lambda: posts(fake_twilio) == 1, "the first worker sends")
    assert status(db) is OutboxStatus.SENDING
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    fake_twilio.release()

    second = callpledge("worker", env=env, log=tmp_path / "second.log")
    wait_until(lambda: started(tmp_path / "second.log"), "the second worker starts")
    file_clock.advance(SENDING_LEASE + timedelta(seconds=1))
    wait_until(lambda: status(db) is OutboxStatus.SENT, "the nudge is resolved")
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=15) == 0

    [message] = sms_to(fake_twilio, recruiter.mobile)
    assert db.one(OutboxItem).twilio_sid == message["sid"]
    assert posts(fake_twilio) == (1 if twilio_took_it else 2)


async def test_sigterm_finishes_the_sms_in_hand_claims_no_more_and_exits_0(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    fake_twilio: FakeTwilio,
    file_clock: FileClock,
    tmp_path: Path,
) -> None:
    due = IN_FLIGHT + 4
    for _ in range(due):
        await missed_call(sessions, settings, make_recruiter(db), at=T0)
    fake_twilio.stall_next(times=due, method="POST")
    worker = callpledge(
        "worker", env=worker_env(db, fake_twilio, file_clock.path), log=tmp_path / "w.log"
    )
    wait_until(lambda: posts(fake_twilio) == IN_FLIGHT, "the SMS in hand reach Twilio")
    worker.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    fake_twilio.release()
    assert worker.wait(timeout=15) == 0
    assert len(fake_twilio.messages) == IN_FLIGHT and posts(fake_twilio) == IN_FLIGHT
    items = sorted((i.status.value, i.attempts) for i in db.all(OutboxItem))
    assert items == [("pending", 0)] * 4 + [("sent", 1)] * IN_FLIGHT
    assert "stopped" in (tmp_path / "w.log").read_text()


@pytest.mark.sqlite_only
def test_a_second_worker_on_sqlite_refuses_to_start(
    db: TestDatabase, fake_twilio: FakeTwilio, file_clock: FileClock, tmp_path: Path
) -> None:
    env = worker_env(db, fake_twilio, file_clock.path)
    first = callpledge("worker", env=env, log=tmp_path / "first.log")
    lock = lock_path(db.url)
    assert lock is not None
    wait_until(lambda: started(tmp_path / "first.log"), "the first worker starts")
    assert lock.read_text().strip() == str(first.pid)
    for command in (["worker"], ["serve", "--port", "0", "--no-migrate"]):
        second = subprocess.run(
            [sys.executable, "-m", "app", *command],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 2, second.stderr
        assert f"(pid {first.pid})" in second.stderr
        assert "exactly one worker may run" in second.stderr
    first.send_signal(signal.SIGINT)
    assert first.wait(timeout=15) == 0
    again = callpledge("worker", env=env, log=tmp_path / "again.log")
    wait_until(lambda: started(tmp_path / "again.log"), "a worker starts once the first is gone")
    again.terminate()
    assert again.wait(timeout=15) == 0


def seed_due_nudges(db: TestDatabase, count: int) -> None:
    """`count` recruiters with one due nudge each (no digests), inserted in bulk."""
    seed_due_obligations(db, recruiters=count, callers=1, due=DUE)


@pytest.mark.postgres_only
@pytest.mark.parametrize("workers", [4, 1])
def test_workers_in_parallel_send_each_of_2000_nudges_exactly_once(
    db: TestDatabase,
    fake_twilio: FakeTwilio,
    file_clock: FileClock,
    tmp_path: Path,
    workers: int,
) -> None:
    count = 2000
    seed_due_nudges(db, count)
    file_clock.set(T0)  # nothing due while the workers start
    env = worker_env(db, fake_twilio, file_clock.path)
    logs = [tmp_path / f"worker-{n}.log" for n in range(workers)]
    processes = [callpledge("worker", env=env, log=log) for log in logs]
    wait_until(lambda: all(started(log) for log in logs), "the workers start")
    began = time.perf_counter()
    file_clock.set(DUE)
    wait_until(lambda: len(fake_twilio.messages) >= count, "every nudge is sent", timeout=180)
    elapsed = time.perf_counter() - began
    wait_until(
        lambda: db.count(OutboxItem, OutboxItem.status == OutboxStatus.SENT) == count,
        "every send is recorded",
    )
    for process in processes:
        process.send_signal(signal.SIGTERM)
    assert [process.wait(timeout=30) for process in processes] == [0] * workers
    assert Counter(m["to"] for m in fake_twilio.messages) == {
        f"+1415{n:07d}": 1 for n in range(count)
    }
    assert posts(fake_twilio) == count
    print(
        f"\n{workers} worker(s), PostgreSQL: {count} nudges in {elapsed:.1f} s = "
        f"{count / elapsed:.0f} nudges/s"
    )


def test_serve_runs_the_worker_inside_and_demo_mode_prints_each_sms(tmp_path: Path) -> None:
    clock = FileClock(tmp_path / "clock")
    clock.set(DUE)
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CI"}} | {
        "CALLPLEDGE_CLOCK_FILE": str(clock.path),
        "WORKER_POLL_SECONDS": "0.05",
    }
    port = free_port()
    log = tmp_path / "serve.log"
    serve = callpledge("serve", "--port", str(port), env=env, log=log)
    wait_until(lambda: ready(port), "the service is ready")
    database = TestDatabase("sqlite", f"sqlite:///{tmp_path / 'callpledge.db'}")
    recruiter = make_recruiter(database)
    database.add(make_obligation(recruiter, next_reminder_at=DUE))
    wait_until(lambda: "--- SMS to" in log.read_text(), "the nudge is printed")
    serve.send_signal(signal.SIGTERM)
    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert serve.wait(timeout=15) == -signal.SIGTERM
    output = log.read_text()
    assert f"--- SMS to {recruiter.mobile} from {recruiter.line} ---\n#1 Call back" in output
    assert "stopped" in output and "Application shutdown complete" in output
    assert database.one(OutboxItem).status is OutboxStatus.SENT
    database.engine.dispose()


def ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False
