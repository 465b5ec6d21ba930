"""Fixtures for closing the loop: Twilio and the recruiter's phone played by the simulator,
a recruiter owing a call back, and a worker that sends what the service queued."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.clock import ManualClock
from app.config import Settings
from app.models import Obligation, ObligationEvent, Recruiter
from app.runtime import Runtime
from app.simulator import CallScript, TwilioSimulator
from app.simulator_recruiter import RecruiterPhone
from app.worker import Worker
from tests.support.databases import TestDatabase
from tests.support.factories import make_recruiter
from tests.support.fake_twilio import FakeTwilio

CALLER = "+447700900123"
IDENTITY = "alice"
API_TOKEN = "loop-tests-token-of-enough-length"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"default_region": "GB", "api_tokens": API_TOKEN}


@pytest.fixture
def twilio(client: httpx.AsyncClient, settings: Settings) -> TwilioSimulator:
    """Twilio, calling the app in-process."""
    return TwilioSimulator(
        client,
        auth_token=settings.auth_token,
        public_base_url=settings.public_base_url,
        account_sid=settings.account_sid,
    )


@pytest.fixture
def phone(twilio: TwilioSimulator) -> RecruiterPhone:
    """Twilio's side of the recruiter's texts and outgoing calls."""
    return RecruiterPhone(twilio)


@pytest.fixture
def recruiter(db: TestDatabase) -> Recruiter:
    return make_recruiter(db, client_identity=IDENTITY)


@pytest.fixture
async def owed(twilio: TwilioSimulator, recruiter: Recruiter, db: TestDatabase) -> Obligation:
    """The recruiter missed a call from CALLER, who left a voicemail: they owe a call back."""
    await twilio.call(CallScript(caller=CALLER, line=recruiter.line, message="Call me back"))
    obligation: Obligation = db.one(Obligation)
    return obligation


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
    monkeypatch.setattr(fake_twilio, "now", clock.now)


def timeline(db: TestDatabase, obligation: Obligation) -> list[tuple[str, str]]:
    """The obligation's timeline as (kind, actor), oldest first."""
    events = db.all(
        ObligationEvent, ObligationEvent.obligation_id == obligation.id, order_by=ObligationEvent.id
    )
    return [(event.kind, event.actor) for event in events]


def fresh(db: TestDatabase, obligation: Obligation) -> Obligation:
    """The obligation as the database holds it now."""
    current: Obligation = db.one(Obligation, Obligation.id == obligation.id)
    return current
