"""Fixtures of the operator tools' tests: the command line, pointed at the test's settings."""

from collections.abc import Callable, Iterator

import pytest
from typer.testing import CliRunner, Result

from app.cli.main import cli
from app.clock import SystemClock
from app.config import Settings
from app.main import create_app
from tests.support.databases import TestDatabase
from tests.support.live import LiveServer

Run = Callable[..., Result]


def env_of(settings: Settings) -> dict[str, str]:
    """The environment that gives a command these settings."""
    token = settings.twilio_auth_token
    return {
        "DATABASE_URL": settings.database_url,
        "PUBLIC_BASE_URL": settings.public_base_url,
        "TWILIO_ACCOUNT_SID": settings.twilio_account_sid or "",
        "TWILIO_AUTH_TOKEN": token.get_secret_value() if token else "",
        "TWILIO_API_URL": settings.twilio_api_url,
        "SMS_BACKEND": settings.sms_backend.value,
        "DEFAULT_REGION": settings.default_region,
        "API_TOKENS": ",".join(t.get_secret_value() for t in settings.api_tokens),
        "CALLPLEDGE_CLOCK_FILE": str(settings.callpledge_clock_file or ""),
    }


@pytest.fixture
def callpledge(settings: Settings, db: TestDatabase) -> Run:
    """`callpledge ARGS…` with the test's settings (`env=` changes some of them)."""

    def run(*args: str, env: dict[str, str] | None = None) -> Result:
        return CliRunner().invoke(cli, list(args), env=env_of(settings) | (env or {}))

    return run


@pytest.fixture
def service(settings: Settings) -> Iterator[LiveServer]:
    """The service as `callpledge serve` runs it: real clock, the worker inside, on a socket."""
    server = LiveServer(create_app(settings, clock=SystemClock(), run_worker=True)).start()
    yield server
    server.stop()
