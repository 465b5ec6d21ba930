"""`callpledge erase` and `callpledge webhook …`, run through typer's CliRunner."""

from collections.abc import Callable

import pytest
from typer.testing import CliRunner, Result

from app.cli.main import cli
from app.models import AuditEntry, Obligation, Recruiter, WebhookSubscription
from tests.support.databases import TestDatabase
from tests.support.factories import make_obligation

Run = Callable[..., Result]


@pytest.fixture
def run(db: TestDatabase) -> Run:
    """Invoke `callpledge ARGS…` against the test database (demo mode: no Twilio)."""

    def invoke(*args: str) -> Result:
        env = {"DATABASE_URL": db.url, "DEFAULT_REGION": "GB"}
        return CliRunner().invoke(cli, list(args), env=env)

    return invoke


def test_erase_redacts_the_caller_and_prints_the_counts(
    run: Run, recruiter: Recruiter, db: TestDatabase
) -> None:
    db.add(make_obligation(recruiter, caller="+447700900123"))
    result = run("erase", "07700 900123")
    assert result.exit_code == 0, result.output
    assert "obligations" in result.stdout and "recordings deleted" in result.stderr
    assert db.one(Obligation).caller is None
    assert db.one(AuditEntry).actor == "cli"


def test_erase_refuses_a_malformed_number(run: Run, db: TestDatabase) -> None:
    result = run("erase", "not-a-number")
    assert result.exit_code == 2 and "NUMBER" in result.stderr
    assert db.all(AuditEntry) == []


def test_webhook_add_list_disable_enable_remove(run: Run, db: TestDatabase) -> None:
    added = run("webhook", "add", "https://ats.example.com/hook", "-e", "obligation.closed")
    assert added.exit_code == 0, added.output
    assert added.stdout.strip().startswith("whsec_")
    hook = db.one(WebhookSubscription)
    assert hook.event_types == ["obligation.closed"]
    assert "obligation.closed" in run("webhook", "list").stdout
    assert run("webhook", "disable", str(hook.id)).exit_code == 0
    assert "disabled (disabled by an operator)" in run("webhook", "list").stdout
    assert run("webhook", "enable", str(hook.id)).exit_code == 0
    assert db.one(WebhookSubscription).enabled is True
    assert run("webhook", "remove", str(hook.id)).exit_code == 0
    assert db.all(WebhookSubscription) == []
    assert run("webhook", "remove", str(hook.id)).exit_code == 1


def test_webhook_add_refuses_bad_input_in_one_line(run: Run, db: TestDatabase) -> None:
    insecure = run("webhook", "add", "http://ats.example.com/hook")
    assert insecure.exit_code == 1 and "https://" in insecure.stderr
    unknown = run("webhook", "add", "https://ats.example.com/hook", "-e", "call.exploded")
    assert unknown.exit_code == 1 and "unknown event type" in unknown.stderr
    assert db.all(WebhookSubscription) == []


def test_webhook_add_subscribes_to_every_event_by_default(run: Run, db: TestDatabase) -> None:
    assert run("webhook", "add", "http://127.0.0.1:8080/hook").exit_code == 0
    assert len(db.one(WebhookSubscription).event_types) == 7
