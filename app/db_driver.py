"""The hot statements straight through psycopg 3: a few autocommit connections, prepared.

SQLAlchemy's asyncio layer costs more Python time per statement than a one-statement
webhook spends anywhere else; the statements that run on every missed call go through the
driver instead. Failures are raised as SQLAlchemy's errors (`OperationalError`,
`IntegrityError`... with the driver's error as `orig`), so the callers and the 503 handler
treat both paths alike. Like the engine's pool (`db._ping_when_idle`), a connection idle for
over a second is pinged before use, so one the database dropped is replaced unseen.
"""

import asyncio
import re
import time
from collections.abc import Sequence
from functools import cache
from typing import Any
from weakref import WeakKeyDictionary

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.pq import TransactionStatus
from psycopg.rows import namedtuple_row
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine

_CONNECT_TIMEOUT_S = 5
# One statement takes PostgreSQL ~0.4 ms of CPU, so 8 at a time keep a database server busy
# and carry far more misses than one web process parses; further ones wait here, not there.
# Measured on 2 cores (status callbacks, wrk -c16): 6-8 connections 1,990-2,060 misses/s,
# p99 12-13 ms; 16 connections 1,865/s, p99 15 ms (more backends, more switching).
CONNECTIONS = 8
_PING_AFTER_IDLE_S = 1.0
_Connection = psycopg.AsyncConnection[Any]  # rows are named tuples
_drivers: WeakKeyDictionary[Engine, "DirectPostgres"] = WeakKeyDictionary()
_PLACEHOLDER = re.compile(r"%%|%\((\w+)\)s")  # an escaped % or a named placeholder
# The hot statements are planned once per connection and the plan kept. Left to choose,
# PostgreSQL re-planned the status callback's statement on every run (a "custom" plan), and
# the more rows a day had written, the dearer: 1.1-1.2 ms of a backend's CPU a run, against
# 0.37-0.42 ms with the kept plan (2,000 runs in a row).
_GENERIC_PLANS = "-c plan_cache_mode=force_generic_plan"


class DirectPostgres:
    """Up to `size` autocommit connections to one PostgreSQL database."""

    def __init__(self, conninfo: str, *, size: int = CONNECTIONS, timeout: float = 10.0) -> None:
        options = conninfo_to_dict(conninfo).get("options") or ""
        self._conninfo = make_conninfo(conninfo, options=f"{options} {_GENERIC_PLANS}".strip())
        self._timeout = timeout
        self._size = size
        self._slots = asyncio.Semaphore(size)
        self._idle: list[tuple[_Connection, float]] = []  # newest last

    @classmethod
    def of_url(cls, database_url: str, **options: Any) -> "DirectPostgres | None":
        """A driver for a PostgreSQL URL (None for SQLite: it keeps the general path)."""
        url = make_url(database_url.replace("postgres://", "postgresql://", 1))
        if url.get_backend_name() != "postgresql":
            return None
        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return cls(conninfo, **options)

    async def fetch_one(self, statement: str, values: dict[str, Any]) -> Any:
        """The one row `statement` returns (a named tuple), run as its own transaction."""
        await self._take_slot()
        try:
            connection = await self._connection(statement)
            query, names = _positional(statement)
            try:
                cursor = psycopg.AsyncRawCursor(connection, row_factory=namedtuple_row)
                await cursor.execute(query, [values[name] for name in names], prepare=True)
                row = await cursor.fetchone()
            except psycopg.Error as exc:
                raise _wrapped(statement, exc, connection.broken) from exc
            finally:
                await self._give_back(connection)
        finally:
            self._slots.release()
        assert row is not None, "the statement returned no row"
        return row

    async def warm(self, statements: Sequence[str]) -> None:
        """Open all the connections it keeps ahead of the first webhooks and plan `statements`
        on each (EXPLAIN, nothing runs): a new backend's first plan of a hot statement costs
        several milliseconds of catalog look-ups, paid here instead."""
        opened = []
        try:
            for _ in range(self._size):
                await self._take_slot()
                try:
                    connection = await self._connection(statements[0])
                except BaseException:
                    self._slots.release()
                    raise
                opened.append(connection)
                for statement in statements:
                    await _plan(connection, statement)
        finally:
            for connection in opened:
                await self._give_back(connection)
                self._slots.release()

    async def close(self) -> None:
        """Close the idle connections (at shutdown)."""
        idle, self._idle = self._idle, []
        for connection, _ in idle:
            await connection.close()

    async def _take_slot(self) -> None:
        if not self._slots.locked():
            await self._slots.acquire()
            return
        try:
            async with asyncio.timeout(self._timeout):
                await self._slots.acquire()
        except TimeoutError as exc:
            raise PoolTimeoutError("no database connection came free in time") from exc

    async def _connection(self, statement: str) -> _Connection:
        """The newest idle connection (pinged if idle a while), or a new one."""
        while self._idle:
            connection, last_used = self._idle.pop()
            if connection.closed:
                continue
            if time.monotonic() - last_used < _PING_AFTER_IDLE_S:
                return connection
            try:
                await connection.execute("SELECT 1")
                return connection
            except psycopg.Error:
                await connection.close()
        try:
            return await psycopg.AsyncConnection.connect(
                self._conninfo,
                autocommit=True,
                prepare_threshold=0,
                row_factory=namedtuple_row,
                connect_timeout=_CONNECT_TIMEOUT_S,
            )
        except psycopg.Error as exc:
            raise _wrapped(statement, exc, True) from exc

    async def _give_back(self, connection: _Connection) -> None:
        """Keep a healthy connection for the next statement; close any other."""
        if connection.closed:
            return
        if connection.broken or connection.info.transaction_status != TransactionStatus.IDLE:
            await connection.close()
            return
        self._idle.append((connection, time.monotonic()))


async def _plan(connection: _Connection, statement: str) -> None:
    """Have the connection's backend plan `statement` (EXPLAIN with no values: nothing runs)."""
    query, names = _positional(statement)
    try:
        await psycopg.AsyncRawCursor(connection).execute(b"EXPLAIN " + query, [None] * len(names))
    except psycopg.Error as exc:
        raise _wrapped(statement, exc, connection.broken) from exc


@cache
def _positional(statement: str) -> tuple[bytes, tuple[str, ...]]:
    """`statement` with PostgreSQL's own `$n` for its `%(name)s` placeholders, and the names in
    their order. psycopg would convert it on every run: it caches no statement over 4 KiB."""
    names: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        if match[1] is None:
            return "%"
        return f"${names.setdefault(match[1], len(names) + 1)}"

    return _PLACEHOLDER.sub(number, statement).encode(), tuple(names)


def _wrapped(statement: str, exc: psycopg.Error, invalidated: bool) -> Exception:
    """The SQLAlchemy error the engine would have raised for `exc` (values hidden)."""
    return DBAPIError.instance(
        statement,
        None,
        exc,
        psycopg.Error,
        hide_parameters=True,
        connection_invalidated=invalidated,
    )


def attach(engine: AsyncEngine, driver: DirectPostgres) -> None:
    """Let the hot statements of `engine`'s database go through `driver`."""
    _drivers[engine.sync_engine] = driver


def driver_of(engine: AsyncEngine) -> DirectPostgres | None:
    """The driver attached to `engine`, if any."""
    return _drivers.get(engine.sync_engine)
