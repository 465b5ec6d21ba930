"""Overdue list: the first page and a page 5,000 items deep of `?overdue=true`, and the count
behind the gauge, at 1,000,000 obligations on PostgreSQL and SQLite, with each plan."""

from __future__ import annotations

import sqlite3
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import func, select

from app.courtesy.overdue import KIND, overdue_at, overdue_page
from app.db import create_sync_db_engine
from app.migrate import upgrade
from app.models import Obligation
from app.paging import Position, encode_cursor
from bench.env import conninfo, fresh_database

ROWS = 1_000_000
PAGE, DEPTH, REPEATS = 50, 5_000, 50
NOW = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
_COLUMNS = (
    "id, recruiter_id, caller, status, opened_at, last_missed_at, missed_calls, reminders_sent,"
    " callback_attempts, updated_at, promised_by, caller_text"
)


def rows() -> Iterator[tuple[Any, ...]]:
    """A year of obligations, every tenth open; the open ones' promises around NOW."""
    step = timedelta(days=365) / ROWS
    for n in range(1, ROWS + 1):
        opened = NOW - step * (ROWS - n)
        is_open = n % 10 == 0
        yield (
            n, 1, f"+1212{n:07d}", "open" if is_open else "closed", opened, opened, 1, 0, 0,
            opened, opened + timedelta(hours=4), "sent",
        )  # fmt: skip


def seed_postgres(url: str) -> None:
    with psycopg.connect(conninfo(url)) as connection, connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO recruiters (id, name, mobile, line, timezone, active, created_at, "
            "updated_at, caller_text) VALUES (1, 'R', '+14156660001', '+15005550001', 'UTC', "
            "true, now(), now(), true)"
        )
        with cursor.copy(f"COPY obligations ({_COLUMNS}) FROM STDIN") as copy:
            for row in rows():
                copy.write_row(row)
        connection.commit()
        connection.autocommit = True
        cursor.execute("VACUUM ANALYZE obligations")


def seed_sqlite(path: Path) -> None:
    connection = sqlite3.connect(path)
    connection.execute(
        "INSERT INTO recruiters (id, name, mobile, line, timezone, active, created_at, "
        "updated_at, caller_text) VALUES (1, 'R', '+14156660001', '+15005550001', 'UTC', 1, "
        "'2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000', 1)"
    )

    def text(moment: datetime) -> str:
        return (
            moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        )

    marks = ", ".join("?" * 12)
    connection.executemany(
        f"INSERT INTO obligations ({_COLUMNS}) VALUES ({marks})",
        (tuple(text(v) if isinstance(v, datetime) else v for v in row) for row in rows()),
    )
    connection.commit()
    connection.close()


def measure(url: str, label: str) -> list[str]:
    engine = create_sync_db_engine(url)
    first = overdue_page(select(Obligation), now=NOW, cursor=None, limit=PAGE)
    deep_cursor = None
    with engine.connect() as connection:
        for _ in range(DEPTH // PAGE):
            statement = overdue_page(select(Obligation), now=NOW, cursor=deep_cursor, limit=PAGE)
            page = connection.execute(statement).all()
            last = page[PAGE - 1]
            deep_cursor = encode_cursor(KIND, Position(last.promised_by, last.id))
        deep = overdue_page(select(Obligation), now=NOW, cursor=deep_cursor, limit=PAGE)
        counted = select(func.count()).select_from(Obligation).where(*overdue_at(NOW))
        lines = [f"{label}: {ROWS:,} obligations"]
        for name, statement in (
            ("first page", first),
            ("page 5,000 deep", deep),
            ("count", counted),
        ):
            ms = _timed(connection, statement)
            plan = _plan(connection, statement, engine.dialect.name)
            lines.append(f"  {name:<16} p50 {ms:7.2f} ms   plan: {plan}")
    engine.dispose()
    return lines


def _timed(connection: Any, statement: Any) -> float:
    """The median milliseconds of running `statement`."""
    timings = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        connection.execute(statement).all()
        timings.append((time.perf_counter() - started) * 1000)
    return sorted(timings)[len(timings) // 2]


def _plan(connection: Any, statement: Any, dialect: str) -> str:
    compiled = statement.compile(connection.engine, compile_kwargs={"literal_binds": True})
    if dialect == "sqlite":
        found = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").all()
        return " / ".join(str(row[-1]) for row in found)
    found = connection.exec_driver_sql(f"EXPLAIN {compiled}").all()
    return " / ".join(str(row[0]).strip() for row in found[:3])


def run() -> list[str]:
    url = fresh_database("callpledge_bench_overdue")
    upgrade(url)
    seed_postgres(url)
    lines = measure(url, "PostgreSQL")
    with tempfile.TemporaryDirectory() as folder:
        sqlite_url = f"sqlite:///{Path(folder) / 'overdue.db'}"
        upgrade(sqlite_url)
        seed_sqlite(Path(folder) / "overdue.db")
        lines += measure(sqlite_url, "SQLite (no ANALYZE)")
    return lines


if __name__ == "__main__":
    print("\n".join(run()))
