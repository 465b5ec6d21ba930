"""`callpledge token …` and `callpledge recruiter …`, run through typer's CliRunner."""

import json
from collections.abc import Callable

import pytest
from typer.testing import CliRunner, Result

from app.api.tokens import hash_token
from app.cli.main import cli
from app.models import ApiToken, Recruiter
from tests.support.databases import TestDatabase

runner = CliRunner()
Run = Callable[..., Result]


@pytest.fixture
def run(db: TestDatabase) -> Run:
    """Invoke `callpledge ARGS…` against the test database."""

    def invoke(*args: str) -> Result:
        return runner.invoke(cli, list(args), env={"DATABASE_URL": db.url, "DEFAULT_REGION": "GB"})

    return invoke


def test_token_create_prints_the_secret_once_and_stores_its_hash(
    run: Run, db: TestDatabase
) -> None:
    result = run("token", "create", "--name", "dana")
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert secret.startswith("cp_") and len(secret) > 40
    assert db.one(ApiToken).token_hash == hash_token(secret)
    listed = run("token", "list")
    assert "dana" in listed.stdout and "live" in listed.stdout and secret not in listed.stdout


def test_token_revoke_and_its_errors(run: Run, db: TestDatabase) -> None:
    run("token", "create", "--name", "dana")
    assert run("token", "create", "--name", "dana").exit_code == 1
    assert run("token", "revoke", "dana").exit_code == 0
    assert db.one(ApiToken).revoked_at is not None
    assert "revoked" in run("token", "list").stdout
    missing = run("token", "revoke", "dana")
    assert missing.exit_code == 1
    assert "no live token is named 'dana'" in missing.stderr


def test_recruiter_add_list_update_deactivate(run: Run, db: TestDatabase) -> None:
    hours = json.dumps({"mon": [["09:00", "17:00"]]})
    added = run(
        "recruiter", "add", "--name", "Alice", "--mobile", "07700 900001",
        "--line", "+15005550006", "--timezone", "Europe/London", "--working-hours", hours,
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "#1 Alice" in added.stdout and "mobile +447700900001" in added.stdout
    stored = db.one(Recruiter)
    assert (stored.timezone, stored.working_hours) == (
        "Europe/London",
        {"mon": [["09:00", "17:00"]]},
    )

    updated = run("recruiter", "update", "1", "--name", "Alice W", "--working-hours", "null")
    assert updated.exit_code == 0, updated.output
    assert (db.one(Recruiter).name, db.one(Recruiter).working_hours) == ("Alice W", None)

    assert "Alice W" in run("recruiter", "list").stdout
    assert run("recruiter", "deactivate", "1").exit_code == 0
    assert "no recruiters" in run("recruiter", "list").stdout
    assert "(deactivated)" in run("recruiter", "list", "--all").stdout


def test_recruiter_errors_are_one_line_a_person_can_act_on(run: Run, db: TestDatabase) -> None:
    run("recruiter", "add", "--name", "Alice", "--mobile", "07700900001", "--line", "+15005550006")
    clash = run(
        "recruiter", "add", "--name", "Bea", "--mobile", "07700900002", "--line", "+15005550006"
    )
    assert clash.exit_code == 1
    assert clash.stderr.strip() == (
        "error: line +15005550006 already belongs to active recruiter 1 (Alice)"
    )
    bad_zone = run("recruiter", "update", "1", "--timezone", "Mars/Olympus")
    assert bad_zone.exit_code == 1 and "IANA" in bad_zone.stderr
    bad_json = run("recruiter", "update", "1", "--working-hours", "{mon")
    assert bad_json.exit_code == 2 and "JSON" in bad_json.stderr
    assert run("recruiter", "update", "1").exit_code == 2
    assert run("recruiter", "deactivate", "7").exit_code == 1
