"""GET /api/v1/obligations/export.csv and `callpledge export`: the listing's filters, in
batches, every row once, and cells no spreadsheet runs as a formula."""

import csv
import io
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from app.care import export
from app.cli.main import cli
from app.clock import ManualClock
from app.models import CloseReason, ObligationStatus, Recruiter
from app.obligations.queries import ObligationFilter
from tests.support.databases import TestDatabase
from tests.support.factories import T0, make_obligation, make_recruiter

H = timedelta(hours=1)


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def obligations(db: TestDatabase, recruiter: Recruiter) -> list[int]:
    """Seven obligations an hour apart (newest last), every other one closed."""
    made = []
    for n in range(7):
        closed = n % 2 == 1
        obligation = make_obligation(
            recruiter,
            caller=f"+4477009001{n:02d}",
            opened_at=T0 + timedelta(hours=n),
            status=ObligationStatus.CLOSED if closed else ObligationStatus.OPEN,
            closed_at=T0 + timedelta(hours=n, minutes=30) if closed else None,
            close_reason=CloseReason.CALLBACK if closed else None,
        )
        db.add(obligation)
        made.append(obligation.id)
    return made


async def test_the_export_streams_every_obligation_once_newest_first_across_batches(
    obligations: list[int], api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "BATCH", 3)
    response = await api.get("/api/v1/obligations/export.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = rows_of(response.text)
    assert [int(row["id"]) for row in rows] == obligations[::-1]
    assert list(rows[0]) == list(export.COLUMNS)


async def test_the_export_takes_the_listing_filters(
    obligations: list[int], api: httpx.AsyncClient, db: TestDatabase
) -> None:
    other = make_recruiter(db)
    db.add(make_obligation(other, caller="+447700900199", opened_at=T0))
    query = {
        "status": "open",
        "opened_after": (T0 + timedelta(minutes=30)).isoformat(),
        "recruiter_id": str(obligations and db.one(Recruiter, Recruiter.id != other.id).id),
    }
    exported = rows_of((await api.get("/api/v1/obligations/export.csv", params=query)).text)
    listed = (await api.get("/api/v1/obligations", params=query)).json()["items"]
    assert [int(r["id"]) for r in exported] == [o["id"] for o in listed] == obligations[2::2][::-1]
    by_caller = await api.get("/api/v1/obligations/export.csv", params={"caller": "07700 900199"})
    assert [r["recruiter_id"] for r in rows_of(by_caller.text)] == [str(other.id)]
    bad = await api.get("/api/v1/obligations/export.csv", params={"caller": "nope"})
    assert bad.status_code == 422


async def test_the_export_of_the_overdue_follows_the_listing_longest_overdue_first(
    api: httpx.AsyncClient,
    db: TestDatabase,
    recruiter: Recruiter,
    clock: ManualClock,
    sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(export, "BATCH", 2)
    hours = [3, 7, 1, 5, 2]  # overdue by this many hours
    db.add(
        *[
            make_obligation(recruiter, caller=f"+4477009002{n:02d}", promised_by=T0 - h * H)
            for n, h in enumerate(hours)
        ],
        make_obligation(recruiter, caller="+447700900298", promised_by=T0 + H),  # due later
        make_obligation(recruiter, caller="+447700900299"),  # no promise
    )
    clock.set(T0)
    for overdue in ("true", "false"):
        params = {"overdue": overdue}
        exported = rows_of((await api.get("/api/v1/obligations/export.csv", params=params)).text)
        listed = (await api.get("/api/v1/obligations", params=params | {"limit": 200})).json()
        assert [int(r["id"]) for r in exported] == [o["id"] for o in listed["items"]]
    overdue_rows = rows_of(
        (await api.get("/api/v1/obligations/export.csv", params={"overdue": "true"})).text
    )
    assert [r["caller"] for r in overdue_rows] == [
        f"'+4477009002{n:02d}" for n in sorted(range(5), key=lambda n: -hours[n])
    ]
    for overdue_too, counted in ((True, 5), (False, 2)):
        where = ObligationFilter(overdue=overdue_too, at=T0)
        assert await export.count(sessions, where=where) == counted


async def test_cells_a_spreadsheet_would_run_are_prefixed(
    recruiter: Recruiter, db: TestDatabase, api: httpx.AsyncClient
) -> None:
    db.add(make_obligation(recruiter, caller_name='=HYPERLINK("http://evil","x")'))
    [row] = rows_of((await api.get("/api/v1/obligations/export.csv")).text)
    assert row["caller_name"] == '\'=HYPERLINK("http://evil","x")'
    assert row["caller"] == "'+447700900123"
    assert [export.safe_cell(v) for v in ("@SUM(A1)", "-1+1", "plain", 5)] == [
        "'@SUM(A1)",
        "'-1+1",
        "plain",
        5,
    ]


def test_callpledge_export_since_writes_csv_to_stdout_and_progress_to_stderr(
    obligations: list[int], db: TestDatabase, tmp_path: object
) -> None:
    clock_file = f"{tmp_path}/clock"
    with open(clock_file, "w") as handle:
        handle.write((T0 + timedelta(hours=6, minutes=30)).isoformat())
    result = CliRunner().invoke(
        cli,
        ["export", "--since", "3h"],
        env={"DATABASE_URL": db.url, "CALLPLEDGE_CLOCK_FILE": clock_file},
    )
    assert result.exit_code == 0, result.output
    assert [int(r["id"]) for r in rows_of(result.stdout)] == obligations[4:][::-1]
    assert "3 obligations exported" in result.stderr
