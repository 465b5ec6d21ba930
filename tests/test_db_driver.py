"""The direct psycopg path: named rows, SQLAlchemy's errors, and dropped connections."""

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from app import db_driver
from app.db import is_connection_problem
from app.models import Call
from app.obligations.miss_pg import COUNT_MISS
from app.voice.status_pg import LOG_STATUS
from tests.support.databases import TestDatabase


@pytest.fixture
async def direct(
    pg_pair: tuple[TestDatabase, TestDatabase],
) -> AsyncIterator[db_driver.DirectPostgres]:
    driver = db_driver.DirectPostgres.of_url(pg_pair[0].url)
    assert driver is not None
    yield driver
    await driver.close()


def test_sqlite_keeps_the_general_path() -> None:
    assert db_driver.DirectPostgres.of_url("sqlite:///./callpledge.db") is None


async def test_a_statement_answers_one_named_row(direct: db_driver.DirectPostgres) -> None:
    row = await direct.fetch_one(
        "SELECT %(n)s::int + 1 AS next, current_schema() AS schema", {"n": 41}
    )
    assert row.next == 42 and row.schema.startswith("cp_test_")


async def test_placeholders_are_read_as_the_engine_reads_them(
    direct: db_driver.DirectPostgres,
) -> None:
    # %% is a literal %, even before a name in parentheses; a name used twice is one value.
    row = await direct.fetch_one(
        "SELECT '100%%' AS p, '%%(a)s' AS q, %(a)s::int AS a, %(a)s::int + %(b)s::int AS b",
        {"a": 1, "b": 2},
    )
    assert (row.p, row.q, row.a, row.b) == ("100%", "%(a)s", 1, 3)


async def test_no_more_statements_run_at_once_than_the_driver_keeps_connections(
    pg_pair: tuple[TestDatabase, TestDatabase],
) -> None:
    small = db_driver.DirectPostgres.of_url(pg_pair[0].url, size=1, timeout=0.2)
    assert small is not None
    try:
        sleeping = asyncio.create_task(small.fetch_one("SELECT true AS slept FROM pg_sleep(1)", {}))
        await asyncio.sleep(0.1)
        with pytest.raises(PoolTimeoutError):
            await small.fetch_one("SELECT 1 AS one", {})
        assert (await sleeping).slept
    finally:
        await small.close()


async def test_prepared_statements_keep_one_plan_without_losing_the_urls_options(
    direct: db_driver.DirectPostgres,
) -> None:
    # PostgreSQL re-planned the status callback's statement on every run when left to choose.
    for n in range(7):
        await direct.fetch_one("SELECT %(n)s::int AS n", {"n": n})
    plans = await direct.fetch_one(
        "SELECT sum(generic_plans) AS generic, sum(custom_plans) AS custom, "
        "current_schema() AS schema FROM pg_prepared_statements "
        "WHERE statement = 'SELECT $1::int AS n'",
        {},
    )
    assert (plans.generic, plans.custom) == (7, 0)
    assert plans.schema.startswith("cp_test_")  # the test URL's search_path option kept


async def test_a_violated_key_is_sqlalchemys_integrity_error_with_the_drivers_diagnostics(
    direct: db_driver.DirectPostgres, pg_pair: tuple[TestDatabase, TestDatabase]
) -> None:
    pg_pair[0].wipe()
    insert = (
        "INSERT INTO calls (call_sid, direction, from_number, to_number, status, started_at, "
        "updated_at) VALUES ('CA1', 'inbound', '+1', '+2', 'ringing', now(), now()) RETURNING id"
    )
    await direct.fetch_one(insert, {})
    with pytest.raises(IntegrityError) as raised:
        await direct.fetch_one(insert, {})
    assert raised.value.orig.diag.constraint_name == "uq_calls_call_sid"  # type: ignore[union-attr]
    assert (await direct.fetch_one("SELECT 1 AS one", {})).one == 1  # the connection goes on


async def test_an_unreachable_database_fails_at_once_as_a_connection_problem() -> None:
    driver = db_driver.DirectPostgres("postgresql://postgres@127.0.0.1:1/test")
    started = time.monotonic()
    with pytest.raises(OperationalError) as raised:
        await driver.fetch_one("SELECT 1", {})
    assert time.monotonic() - started < 2
    assert is_connection_problem(raised.value)


async def test_a_connection_the_server_dropped_while_idle_is_replaced_unseen(
    direct: db_driver.DirectPostgres,
    pg_pair: tuple[TestDatabase, TestDatabase],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = (await direct.fetch_one("SELECT pg_backend_pid() AS pid", {})).pid
    with pg_pair[1].engine.connect() as other:
        other.exec_driver_sql(f"SELECT pg_terminate_backend({int(first)})")
    monkeypatch.setattr(db_driver, "_PING_AFTER_IDLE_S", 0.0)
    second = (await direct.fetch_one("SELECT pg_backend_pid() AS pid", {})).pid
    assert second != first


async def test_warmed_connections_serve_the_first_statements_without_opening_any(
    direct: db_driver.DirectPostgres,
    pg_pair: tuple[TestDatabase, TestDatabase],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pg_pair[0].wipe()
    await direct.warm([COUNT_MISS, LOG_STATUS])
    opened = []
    connect = psycopg.AsyncConnection.connect

    async def counted(*args: Any, **kwargs: Any) -> Any:
        opened.append(1)
        return await connect(*args, **kwargs)

    monkeypatch.setattr(psycopg.AsyncConnection, "connect", counted)
    sleep = "SELECT true AS slept FROM pg_sleep(0.2)"
    rows = await asyncio.gather(*(direct.fetch_one(sleep, {}) for _ in range(3)))
    assert [row.slept for row in rows] == [True] * 3  # three at once: three connections
    assert opened == []
    assert pg_pair[0].count(Call) == 0  # planned, not run


async def test_warming_an_unreachable_database_fails_as_a_connection_problem() -> None:
    driver = db_driver.DirectPostgres("postgresql://postgres@127.0.0.1:1/test", size=1, timeout=1)
    with pytest.raises(OperationalError) as raised:
        await driver.warm([COUNT_MISS])
    assert is_connection_problem(raised.value)
    # Its slot was given back: the next statement fails the same way, not for want of one.
    with pytest.raises(OperationalError):
        await driver.fetch_one("SELECT 1", {})


async def test_a_statement_that_cannot_be_planned_is_sqlalchemys_error(
    direct: db_driver.DirectPostgres,
) -> None:
    with pytest.raises(ProgrammingError) as raised:
        await direct.warm(["SELECT id FROM no_such_table WHERE id = %(id)s"])
    assert isinstance(raised.value.orig, psycopg.errors.UndefinedTable)
    assert (await direct.fetch_one("SELECT 1 AS one", {})).one == 1  # its connection goes on
