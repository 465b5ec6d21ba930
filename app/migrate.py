"""Alembic, driven from code: upgrades at start-up, under an advisory lock on PostgreSQL."""

from collections.abc import Callable
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, pool, text

import migrations
from app.db import create_sync_db_engine, is_sqlite

# Any fixed 64-bit number; replicas starting together queue on it instead of racing.
_ADVISORY_LOCK_KEY = 0x63616C6C706C6467  # "callpldg"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database to `revision`; safe to run from several processes at once."""
    _run(database_url, lambda config: command.upgrade(config, revision))


def downgrade(database_url: str, revision: str) -> None:
    _run(database_url, lambda config: command.downgrade(config, revision))


def pending(database_url: str) -> bool:
    """Whether the database is behind the newest migration."""
    engine = create_sync_db_engine(database_url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return not at_head(connection)
    finally:
        engine.dispose()


def at_head(connection: Connection) -> bool:
    """Whether the database has the newest migration's schema (async callers: run_sync)."""
    return MigrationContext.configure(connection).get_current_revision() == _head()


@cache
def _head() -> str | None:
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


def _run(database_url: str, action: Callable[[Config], None]) -> None:
    config = alembic_config(database_url)
    engine = create_sync_db_engine(database_url, poolclass=pool.NullPool)
    locked = not is_sqlite(database_url)
    try:
        with engine.connect() as connection:
            if locked:
                connection.execute(
                    text("SELECT pg_advisory_lock(:key)"), {"key": _ADVISORY_LOCK_KEY}
                )
                connection.commit()
            try:
                config.attributes["connection"] = connection
                action(config)
                connection.commit()
            finally:
                if locked:
                    connection.execute(
                        text("SELECT pg_advisory_unlock(:key)"), {"key": _ADVISORY_LOCK_KEY}
                    )
                    connection.commit()
    finally:
        engine.dispose()
