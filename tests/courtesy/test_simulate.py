"""`callpledge simulate missed-call` against a live service shows the caller's text-back."""

from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from app.cli.main import cli
from app.clock import SystemClock
from app.config import Settings
from app.main import create_app
from app.models import CallerText, Obligation
from tests.cli.conftest import env_of
from tests.courtesy.conftest import CALLER
from tests.outbox.processes import wait_until
from tests.support.databases import TestDatabase
from tests.support.factories import make_recruiter
from tests.support.fake_twilio import FakeTwilio
from tests.support.live import LiveServer


@pytest.fixture
def settings_overrides(settings_overrides: dict[str, Any]) -> dict[str, Any]:
    # The service runs on the real clock: caller hours all day, or after 20:00 (the default
    # hours' end) the text-back waits for the morning and the test fails by the time of day.
    return settings_overrides | {"caller_text_hours": "00:00-24:00"}


@pytest.fixture
def service(settings: Settings) -> Iterator[LiveServer]:
    """The service as `callpledge serve` runs it: real clock, the worker inside."""
    server = LiveServer(create_app(settings, clock=SystemClock(), run_worker=True)).start()
    yield server
    server.stop()


def test_a_simulated_missed_call_shows_the_callers_text(
    settings: Settings, service: LiveServer, db: TestDatabase, fake_twilio: FakeTwilio
) -> None:
    recruiter = make_recruiter(db, name="Alice Example")
    result = CliRunner().invoke(
        cli,
        ["simulate", "missed-call", "--from", CALLER, "--to", recruiter.line, "--url", service.url],
        env=env_of(settings) | {"CALLER_TEXT": "on", "TEAM_NAME": "Acme Talent"},
    )

    assert result.exit_code == 0, result.output
    assert "The caller hears back:" in result.output
    assert "SMS to +44 7700 900123" in result.output
    assert "  | Hi there, this is Alice at Acme Talent." in result.output
    # The simulator shows it once queued; the service's worker sends it a moment later.
    wait_until(lambda: db.one(Obligation).caller_text is CallerText.SENT, "the text is sent")
