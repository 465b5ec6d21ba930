"""`callpledge recruiter add/update --public-pledge --slug`: publishing from the shell."""

from typer.testing import CliRunner

from app.cli.main import cli
from app.models import Recruiter
from tests.support.databases import TestDatabase

runner = CliRunner()


def test_the_cli_publishes_and_withdraws_a_record(db: TestDatabase) -> None:
    env = {"DATABASE_URL": db.url, "DEFAULT_REGION": "GB"}
    added = runner.invoke(
        cli,
        ["recruiter", "add", "--name", "Alice", "--mobile", "07700 900001", "--line",
         "+15005550006", "--public-pledge", "--slug", "alice"],
        env=env,
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "pledge /pledge/alice" in added.stdout
    alice = db.one(Recruiter)
    assert (alice.public_pledge, alice.slug) == (True, "alice")
    bad = runner.invoke(cli, ["recruiter", "update", str(alice.id), "--slug", "A!"], env=env)
    assert bad.exit_code != 0 and "slug must be 2-60 lower-case letters" in bad.output
    withdrawn = runner.invoke(
        cli, ["recruiter", "update", str(alice.id), "--no-public-pledge", "--slug", ""], env=env
    )
    assert withdrawn.exit_code == 0, withdrawn.output
    assert (db.one(Recruiter).public_pledge, db.one(Recruiter).slug) == (False, None)
