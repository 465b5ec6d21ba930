"""Fixtures every test builds on: both databases, the fake Twilio, a signer, a clock, the app."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import settings as hypothesis_settings
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.clock import ManualClock
from app.config import Settings
from app.db import create_async_db_engine, session_factory
from app.main import create_app
from app.migrate import upgrade
from tests.support.databases import TestDatabase, in_ci, postgres_problem, postgres_url
from tests.support.fake_twilio import FakeTwilio
from tests.support.live import LiveServer
from tests.support.signer import TwilioSigner, post_webhook

pytest_plugins = ("tests.support.loop",)

PUBLIC_BASE_URL = "https://callpledge.example.com"
BACKENDS = ("sqlite", "postgresql")
# Variables of the contract (and twilio-python's) that must not leak in from the shell.
_ISOLATED_ENV = (
    "DATABASE_URL PUBLIC_BASE_URL TWILIO_ACCOUNT_SID TWILIO_AUTH_TOKEN TWILIO_API_URL "
    "SMS_BACKEND TWILIO_MESSAGING_SERVICE_SID API_TOKENS REMINDER_SCHEDULE REMINDER_MAX "
    "RETRY_MAX_BACKOFF ESCALATE_AFTER ESCALATION_NUMBER WORKER_POLL_SECONDS DEFAULT_TIMEZONE "
    "DEFAULT_REGION CALL_TIMEOUT_SECONDS CALLPLEDGE_CLOCK_FILE TWILIO_REGION TWILIO_EDGE "
    "CALLER_TEXT RETURN_WITHIN CALLER_TEXT_HOURS CALLER_CLOSE_TEXT TEAM_NAME"
).split()

_postgres_skip_reason: list[str] = []
_SKIP_PREFIX = "PostgreSQL not reachable: "


# In CI the property tests draw the same examples on every run (derandomize), so a green run
# here is a green run there; a run on a developer's machine keeps exploring at random.
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if in_ci():
    hypothesis_settings.load_profile("ci")


def pytest_sessionstart(session: pytest.Session) -> None:
    for name in _ISOLATED_ENV:
        os.environ.pop(name, None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run `postgres_only` tests on PostgreSQL alone, `sqlite_only` ones on SQLite alone."""
    keep, drop = [], []
    for item in items:
        backend = getattr(item, "callspec", None) and item.callspec.params.get("database")
        wrong = (backend == "sqlite" and item.get_closest_marker("postgres_only")) or (
            backend == "postgresql" and item.get_closest_marker("sqlite_only")
        )
        (drop if wrong else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say plainly when PostgreSQL was skipped (read from the reports: xdist workers too)."""
    reasons = [_SKIP_PREFIX + r for r in _postgres_skip_reason] + [
        str(report.longrepr)
        for report in terminalreporter.stats.get("skipped", [])
        if _SKIP_PREFIX in str(report.longrepr)
    ]
    if reasons:
        reason = reasons[0].split(_SKIP_PREFIX, 1)[1].rstrip("')")
        terminalreporter.write_sep(
            "!",
            f"PostgreSQL was SKIPPED ({reason}); only SQLite was tested. "
            f"Start a server at {postgres_url()} or set TEST_DATABASE_URL.",
            yellow=True,
        )


@pytest.fixture(scope="session", params=BACKENDS)
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestDatabase]:
    """A migrated database of each kind, shared by the session."""
    if request.param == "postgresql":
        problem = postgres_problem()
        if problem:
            if in_ci():
                pytest.fail(f"PostgreSQL is required in CI (CI=true) but: {problem}")
            if not _postgres_skip_reason:
                _postgres_skip_reason.append(problem)
            pytest.skip(f"{_SKIP_PREFIX}{problem}")
        test_db = TestDatabase.postgres()
    else:
        test_db = TestDatabase.sqlite(tmp_path_factory.mktemp("sqlite"))
    upgrade(test_db.url)
    yield test_db
    test_db.drop()


@pytest.fixture(params=BACKENDS)
def unmigrated(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestDatabase]:
    """A database of each kind that exists but has no schema (before `callpledge db upgrade`)."""
    if request.param == "postgresql":
        problem = postgres_problem()
        if problem:
            if in_ci():
                pytest.fail(f"PostgreSQL is required in CI (CI=true) but: {problem}")
            pytest.skip(f"{_SKIP_PREFIX}{problem}")
        test_db = TestDatabase.postgres()
    else:
        test_db = TestDatabase.sqlite(tmp_path)
        with test_db.engine.connect():
            pass  # creates the empty file
    yield test_db
    test_db.drop()


@pytest.fixture
def db(database: TestDatabase) -> TestDatabase:
    """The database, emptied for this test."""
    database.wipe()
    return database


@pytest.fixture(scope="session")
def fake_twilio_server() -> Iterator[FakeTwilio]:
    fake = FakeTwilio().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_twilio(fake_twilio_server: FakeTwilio) -> Iterator[FakeTwilio]:
    """The fake Twilio REST API, emptied and up for this test."""
    fake_twilio_server.up()
    fake_twilio_server.reset()
    yield fake_twilio_server
    fake_twilio_server.up()


@pytest.fixture
def clock() -> ManualClock:
    """Monday 5 January 2026, 10:00 UTC, until a test moves it."""
    return ManualClock()


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a test module to change a setting for its tests."""
    return {}


@pytest.fixture
def settings(
    db: TestDatabase, fake_twilio: FakeTwilio, settings_overrides: dict[str, Any]
) -> Settings:
    values: dict[str, Any] = {
        "database_url": db.url,
        "public_base_url": PUBLIC_BASE_URL,
        "twilio_account_sid": fake_twilio.account_sid,
        "twilio_auth_token": fake_twilio.auth_token,
        "twilio_api_url": fake_twilio.base_url,
        "sms_backend": "twilio",
        "reminder_schedule": "2m,1h,4h,1d",
        "worker_poll_seconds": 0.05,
        "retry_max_backoff": "5m",
    }
    return Settings(_env_file=None, **(values | settings_overrides))  # type: ignore[call-arg]


@pytest.fixture
def app(settings: Settings, clock: ManualClock) -> FastAPI:
    return create_app(settings, clock=clock)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process, with its lifespan running."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


@pytest.fixture
def signer(settings: Settings) -> TwilioSigner:
    return TwilioSigner(settings.auth_token, settings.public_base_url)


Webhook = Callable[[str, dict[str, Any]], Awaitable[httpx.Response]]


@pytest.fixture
def webhook(client: httpx.AsyncClient, signer: TwilioSigner) -> Webhook:
    """POST a webhook signed as Twilio signs it: `await webhook(path_or_url, params)`."""

    async def send(path_or_url: str, params: dict[str, Any]) -> httpx.Response:
        return await post_webhook(client, signer, path_or_url, params)

    return send


@pytest.fixture
def live_server(settings: Settings, clock: ManualClock) -> Iterator[LiveServer]:
    """The app served by uvicorn on a loopback port, for tests that need real sockets."""
    server = LiveServer(create_app(settings, clock=clock)).start()
    yield server
    server.stop()


@pytest.fixture
def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture
async def sessions(db: TestDatabase) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Async sessions on the test database, for calling service functions directly."""
    engine = create_async_db_engine(db.url)
    yield session_factory(engine)
    await engine.dispose()
