"""Worker processes for tests: started as a user starts them, sharing the test's clock file."""

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.conftest import PUBLIC_BASE_URL
from tests.support.databases import TestDatabase
from tests.support.fake_twilio import FakeTwilio


def worker_env(db: TestDatabase, fake: FakeTwilio, clock_file: Path) -> dict[str, str]:
    """The environment of a worker on the test database, the fake Twilio and the clock file."""
    return {k: v for k, v in os.environ.items() if k != "CI"} | {
        "DATABASE_URL": db.url,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "TWILIO_ACCOUNT_SID": fake.account_sid,
        "TWILIO_AUTH_TOKEN": fake.auth_token,
        "TWILIO_API_URL": fake.base_url,
        "SMS_BACKEND": "twilio",
        "CALLPLEDGE_CLOCK_FILE": str(clock_file),
        "WORKER_POLL_SECONDS": "0.05",
    }


_running: list[subprocess.Popen[bytes]] = []


def callpledge(*args: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start `callpledge ARGS` with its output going to `log`."""
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "app", *args],
            cwd=log.parent,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    _running.append(process)
    return process


def kill_leftovers() -> None:
    """Kill what a failed test left running: a worker would go on polling its database."""
    while _running:
        process = _running.pop()
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.02)


def started(log: Path) -> bool:
    """Whether the worker writing `log` has begun its passes."""
    return log.exists() and "started" in log.read_text()
