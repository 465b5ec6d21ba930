"""Engines, sessions and the one transaction each request or unit of worker work runs in."""

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, bindparam, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import ConnectionPoolEntry

_SQLITE_BUSY_TIMEOUT_MS = 10_000
_PG_CONNECT_TIMEOUT_S = 5
_PING_AFTER_IDLE_S = 1.0
_LAST_USED = "callpledge_last_used"


def _url(database_url: str, *, asynchronous: bool) -> URL:
    url = make_url(database_url.replace("postgres://", "postgresql://", 1))
    if url.get_backend_name() == "sqlite":
        return url.set(drivername="sqlite+aiosqlite" if asynchronous else "sqlite")
    return url.set(drivername="postgresql+psycopg")


def is_sqlite(database_url: str) -> bool:
    return make_url(database_url).get_backend_name() == "sqlite"


def sqlite_path(database_url: str) -> Path | None:
    """The file behind a SQLite URL (None for PostgreSQL or an in-memory database)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database).resolve()


def missing_sqlite_file(database_url: str) -> Path | None:
    """The SQLite file the URL names if it is not there (opening it would create an empty
    one); None when there is such a file, or the database is no file."""
    path = sqlite_path(database_url)
    return path if path is not None and not path.exists() else None


def _engine_options(database_url: str, overrides: dict[str, Any]) -> dict[str, Any]:
    # hide_parameters: a statement's values (phone numbers among them) stay out of error
    # messages, and so out of logs.
    if is_sqlite(database_url):
        return {"pool_pre_ping": True, "hide_parameters": True} | overrides
    # PostgreSQL pings in _ping_when_idle instead: a round trip per checkout is most of a
    # one-statement webhook's cost, and a connection checked in a moment ago is alive.
    options: dict[str, Any] = {
        "hide_parameters": True,
        "connect_args": {"connect_timeout": _PG_CONNECT_TIMEOUT_S},
    }
    if "poolclass" not in overrides:
        # Room for the concurrency of one process: an overflow connection is opened and
        # closed per use, which costs PostgreSQL a backend fork each time.
        options |= {"pool_size": 20, "max_overflow": 20, "pool_timeout": 10}
    return options | overrides


def create_async_db_engine(database_url: str, **options: Any) -> AsyncEngine:
    """The asyncio engine the web service and worker use (aiosqlite or psycopg 3)."""
    engine = create_async_engine(
        _url(database_url, asynchronous=True), **_engine_options(database_url, options)
    )
    if is_sqlite(database_url):
        _configure_sqlite(engine.sync_engine)
    else:
        _ping_when_idle(engine.sync_engine)
    return engine


def create_sync_db_engine(database_url: str, **options: Any) -> Engine:
    """A blocking engine, for migrations and command-line tools."""
    engine = create_engine(
        _url(database_url, asynchronous=False), **_engine_options(database_url, options)
    )
    if is_sqlite(database_url):
        _configure_sqlite(engine)
    else:
        _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """pool_pre_ping for connections idle long enough to have gone stale, and only those.

    A failed ping raises DisconnectionError, on which the pool throws the connection away
    and checks out another: after a database restart nobody sees the dead connections.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_LAST_USED] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_LAST_USED] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        if time.monotonic() - record.info.get(_LAST_USED, 0.0) < _PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # whatever the driver raises, the connection is unusable
            raise DisconnectionError("the pooled connection no longer answers") from exc


def _configure_sqlite(engine: Engine) -> None:
    """WAL, a busy timeout and `BEGIN IMMEDIATE`, so concurrent writers queue instead of failing."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy's "begin" event, not the driver, start transactions.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Readers may ask for a deferred transaction; every writer takes the lock up front,
        # which avoids the upgrade-from-read deadlock that SQLite answers with "locked".
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")


def is_foreign_key_violation(exc: IntegrityError) -> bool:
    """Whether the statement named a row that does not exist (on either database)."""
    sqlstate = getattr(exc.orig, "sqlstate", None)  # psycopg
    sqlite_name = getattr(exc.orig, "sqlite_errorname", None)
    return sqlstate == "23503" or sqlite_name == "SQLITE_CONSTRAINT_FOREIGNKEY"


def database_problem(exc: Exception) -> str:
    """The first line of what the database or its driver said (never the statement or values)."""
    cause = exc.orig if isinstance(exc, DBAPIError) else exc
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__


# SQLite's "cannot get at the file now" errors; PostgreSQL's SQLSTATE classes 08 (connection),
# 53 (resources, e.g. too many connections) and 57 (shutdown, "cannot connect now").
_SQLITE_UNREACHABLE = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_CANTOPEN", "SQLITE_IOERR")
_PG_UNREACHABLE = ("08", "53", "57")


def is_connection_problem(exc: Exception) -> bool:
    """Whether a database error means "unreachable for now" rather than a fault to look at
    (such as a missing table)."""
    if not isinstance(exc, DBAPIError) or exc.connection_invalidated:
        return True  # pool timeouts, refused sockets, dropped connections
    sqlite_name = getattr(exc.orig, "sqlite_errorname", None)
    if sqlite_name is not None:
        return str(sqlite_name).startswith(_SQLITE_UNREACHABLE)
    sqlstate = getattr(exc.orig, "sqlstate", None)
    # psycopg gives no SQLSTATE when the failure is its own: no connection was made.
    return sqlstate is None or str(sqlstate).startswith(_PG_UNREACHABLE)


def dialect_insert(session: AsyncSession) -> Any:
    """The INSERT construct of the session's dialect, which knows ON CONFLICT."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def core_table(model: type[DeclarativeBase]) -> Table:
    """The model's Core table, for statements built once and executed with values.

    (Executed with a dict of values, an ORM-entity INSERT turns into an ORM bulk insert.)
    """
    return model.metadata.tables[str(model.__tablename__)]


def value_param(column: Any, name: str | None = None) -> Any:
    """A typed bound parameter `v_<name>` for the column, for statements built once.

    The prefix: a bound parameter may not share its name with a column of an INSERT or UPDATE.
    """
    return bindparam(f"v_{name or column.key}", type_=column.type)


def value_params(model: Any, names: str) -> dict[str, Any]:
    """`value_param` for each of the model's columns named (space-separated), by name."""
    return {name: value_param(getattr(model, name)) for name in names.split()}


def values_for(values: dict[str, Any]) -> dict[str, Any]:
    """Values for the `v_*` parameters of statements built with `value_param`."""
    return {f"v_{name}": value for name, value in values.items()}


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def begin_read_only(session: AsyncSession) -> None:
    """Start the session's transaction without taking SQLite's write lock."""
    bind = session.get_bind()
    if bind.dialect.name == "sqlite":
        await session.connection(execution_options={"sqlite_begin": "DEFERRED"})


@asynccontextmanager
async def unit_of_work(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One transaction: committed when the block ends, rolled back if it raises."""
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
