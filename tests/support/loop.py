"""Fixtures shared by the voice, SMS, outbox and reminders tests: Twilio and the recruiter's
phone played by the simulator, a recruiter owing a call back, and a worker run pass by pass.

Registered for the whole suite by `tests/conftest.py` (`pytest_plugins`)."""

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from app.clock import ManualClock
from app.config import Settings
from app.migrate import upgrade
from app.models import Obligation, ObligationEvent, Recruiter
from app.outbox.worker import Worker
from app.runtime import Runtime
from app.simulator.exchange import CallScript
from app.simulator.recruiter import RecruiterPhone
from app.simulator.scenarios import simulator
from app.simulator.twilio import TwilioSimulator
from tests.support.databases import TestDatabase, in_ci, postgres_problem
from tests.support.fake_twilio import FakeTwilio

CALLER = "+447700900123"
IDENTITY = "alice"
API_TOKEN = "loop-tests-token-of-enough-length"


@pytest.fixture
def twilio(client: httpx.AsyncClient, settings: Settings) -> TwilioSimulator:
    """Twilio, calling the app in-process."""
    return simulator(client, settings)


@pytest.fixture
def phone(twilio: TwilioSimulator) -> RecruiterPhone:
    """Twilio's side of the recruiter's texts and outgoing calls."""
    return RecruiterPhone(twilio)


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


@pytest.fixture
def twilio_dates_follow_the_clock(
    fake_twilio: FakeTwilio, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fake stamps what it creates with the test's clock, as Twilio would with real time."""
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


def _postgres_schema() -> TestDatabase:
    problem = postgres_problem()
    if problem:
        if in_ci():
            pytest.fail(f"PostgreSQL is required in CI (CI=true) but: {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    database = TestDatabase.postgres()
    upgrade(database.url)
    return database


@pytest.fixture(scope="module")
def pg_pair() -> Iterator[tuple[TestDatabase, TestDatabase]]:
    """Two migrated PostgreSQL schemas: one per path of a comparison."""
    first = _postgres_schema()
    second = _postgres_schema()
    yield first, second
    first.drop()
    second.drop()
