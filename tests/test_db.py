"""The database layer: aware UTC times, the invariants held by indexes, SQLite's set-up."""

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.db import create_async_db_engine, missing_sqlite_file, session_factory, unit_of_work
from app.models import Call, Obligation, ObligationStatus, Recruiter
from tests.support.databases import TestDatabase
from tests.support.factories import make_obligation, make_recruiter

MOMENT = datetime(2026, 3, 29, 0, 59, 59, 123456, tzinfo=UTC)


def test_times_come_back_aware_and_in_utc(db: TestDatabase) -> None:
    recruiter = make_recruiter(db)
    paris = MOMENT.astimezone(timezone(timedelta(hours=2)))
    db.add(make_obligation(recruiter, opened_at=paris))
    stored = db.one(Obligation)
    assert stored.opened_at == MOMENT
    assert stored.opened_at.tzinfo is not None and stored.opened_at.utcoffset() == timedelta(0)


def test_naive_times_are_refused(db: TestDatabase) -> None:
    recruiter = make_recruiter(db)
    with pytest.raises(Exception, match="naive"):
        db.add(make_obligation(recruiter, opened_at=datetime(2026, 1, 1)))


def test_one_open_obligation_per_recruiter_and_caller(db: TestDatabase) -> None:
    recruiter = make_recruiter(db)
    db.add(make_obligation(recruiter, caller="+447700900123"))
    with pytest.raises(IntegrityError):
        db.add(make_obligation(recruiter, caller="+447700900123"))


def test_a_caller_can_be_missed_again_after_the_obligation_closes(db: TestDatabase) -> None:
    recruiter = make_recruiter(db)
    db.add(make_obligation(recruiter, caller="+447700900123", status=ObligationStatus.CLOSED))
    db.add(make_obligation(recruiter, caller="+447700900123", status=ObligationStatus.CLOSED))
    db.add(make_obligation(recruiter, caller="+447700900123"))
    assert db.count(Obligation) == 3


def test_withheld_callers_never_merge(db: TestDatabase) -> None:
    recruiter = make_recruiter(db)
    db.add(make_obligation(recruiter, caller=None), make_obligation(recruiter, caller=None))
    assert db.count(Obligation, Obligation.status == ObligationStatus.OPEN) == 2


def test_a_line_belongs_to_one_active_recruiter(db: TestDatabase) -> None:
    make_recruiter(db, line="+15005550006", mobile="+14155550101", active=False)
    make_recruiter(db, line="+15005550006", mobile="+14155550102")
    with pytest.raises(IntegrityError):
        make_recruiter(db, line="+15005550006", mobile="+14155550103")


def test_a_call_sid_is_stored_once(db: TestDatabase) -> None:
    row = {
        "direction": "inbound",
        "from_number": "+1",
        "to_number": "+2",
        "status": "ringing",
        "started_at": MOMENT,
        "updated_at": MOMENT,
    }
    db.add(Call(call_sid="CA1", **row))
    with pytest.raises(IntegrityError):
        db.add(Call(call_sid="CA1", **row))


async def test_the_async_engine_commits_one_unit_of_work(db: TestDatabase) -> None:
    engine = create_async_db_engine(db.url)
    try:
        async with unit_of_work(session_factory(engine)) as session:
            session.add(
                Recruiter(
                    name="Ann",
                    mobile="+14155550100",
                    line="+15005550006",
                    timezone="UTC",
                    active=True,
                    created_at=MOMENT,
                    updated_at=MOMENT,
                )
            )
        with pytest.raises(RuntimeError):
            async with unit_of_work(session_factory(engine)) as session:
                session.add(
                    Recruiter(
                        name="Bob",
                        mobile="+14155550199",
                        line="+15005550007",
                        timezone="UTC",
                        active=True,
                        created_at=MOMENT,
                        updated_at=MOMENT,
                    )
                )
                await session.flush()
                raise RuntimeError("rolled back")
    finally:
        await engine.dispose()
    assert [r.name for r in db.all(Recruiter)] == ["Ann"]


@pytest.mark.sqlite_only
async def test_sqlite_runs_in_wal_with_a_busy_timeout(db: TestDatabase) -> None:
    engine = create_async_db_engine(db.url)
    try:
        async with engine.connect() as connection:
            mode = (await connection.execute(text("PRAGMA journal_mode"))).scalar_one()
            timeout = (await connection.execute(text("PRAGMA busy_timeout"))).scalar_one()
    finally:
        await engine.dispose()
    assert (mode, timeout) == ("wal", 10000)


def test_a_missing_sqlite_file_is_named_and_nothing_else_is(tmp_path: Path) -> None:
    absent, present = tmp_path / "absent.db", tmp_path / "present.db"
    present.touch()
    assert missing_sqlite_file(f"sqlite+aiosqlite:///{absent}") == absent.resolve()
    assert missing_sqlite_file(f"sqlite+aiosqlite:///{present}") is None
    assert missing_sqlite_file("sqlite+aiosqlite:///:memory:") is None
    assert missing_sqlite_file("postgresql+asyncpg://u:p@localhost/db") is None
    assert not absent.exists()
