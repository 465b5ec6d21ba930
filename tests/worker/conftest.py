"""Fixtures for the worker: a runtime on the test database and clock, and a worker on it."""

from collections.abc import AsyncIterator

import pytest

from app.clock import ManualClock
from app.config import Settings
from app.runtime import Runtime
from app.worker import Worker
from tests.support.fake_twilio import FakeTwilio


@pytest.fixture
async def runtime(settings: Settings, clock: ManualClock) -> AsyncIterator[Runtime]:
    runtime = Runtime.start(settings, clock)
    yield runtime
    await runtime.stop()


@pytest.fixture
def worker(runtime: Runtime) -> Worker:
    """A worker whose passes the test runs one at a time (`await worker.run_once()`)."""
    return Worker(runtime, name="test-worker")


@pytest.fixture(autouse=True)
def twilio_dates_follow_the_clock(
    fake_twilio: FakeTwilio, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fake stamps what it creates with the test's clock, as Twilio would with real time."""
    monkeypatch.setattr(fake_twilio, "now", clock.now)
