"""The two databases every test runs on: a SQLite file, and a private PostgreSQL schema."""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.pool import NullPool

from app.models import Base

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def postgres_url() -> str:
    return os.environ.get("TEST_DATABASE_URL", DEFAULT_POSTGRES_URL)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def postgres_problem() -> str | None:
    """None when the test PostgreSQL server answers, else why it does not."""
    url = make_url(postgres_url()).set(drivername="postgresql+psycopg")
    engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means: no PostgreSQL here
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    finally:
        engine.dispose()
    return None


@dataclass
class TestDatabase:
    """A migrated database for one test session, wiped before each test."""

    backend: str
    url: str
    engine: Engine = field(init=False)
    schema: str | None = None

    __test__ = False  # not a test class, despite the name

    def __post_init__(self) -> None:
        sync_url = make_url(self.url)
        if self.backend == "sqlite":
            sync_url = sync_url.set(drivername="sqlite")
        else:
            sync_url = sync_url.set(drivername="postgresql+psycopg")
        self.engine = create_engine(sync_url, poolclass=NullPool)

    @classmethod
    def sqlite(cls, folder: Path) -> TestDatabase:
        return cls("sqlite", f"sqlite:///{folder / 'callpledge-test.db'}")

    @classmethod
    def postgres(cls) -> TestDatabase:
        schema = f"cp_test_{secrets.token_hex(4)}"
        admin = create_engine(
            make_url(postgres_url()).set(drivername="postgresql+psycopg"), poolclass=NullPool
        )
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
        base = postgres_url()
        joiner = "&" if "?" in base else "?"
        url = f"{base}{joiner}options={quote(f'-csearch_path={schema}')}"
        return cls("postgresql", url, schema=schema)

    def drop(self) -> None:
        self.engine.dispose()
        if self.schema:
            admin = create_engine(
                make_url(postgres_url()).set(drivername="postgresql+psycopg"), poolclass=NullPool
            )
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
            admin.dispose()

    def wipe(self) -> None:
        """Empty every table, so each test starts from a clean database."""
        tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
        with self.engine.begin() as connection:
            if self.backend == "postgresql":
                connection.execute(text("SET LOCAL lock_timeout = '10s'"))
                names = ", ".join(f'"{name}"' for name in tables)
                connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for name in tables:
                    connection.execute(text(f'DELETE FROM "{name}"'))

    # -- helpers for tests ----------------------------------------------------------------

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def all(self, model: type[DeclarativeBase], *where: Any, order_by: Any = None) -> Sequence[Any]:
        """Every row of `model` matching `where`, in id order unless told otherwise."""
        statement = select(model).where(*where)
        primary = model.__mapper__.primary_key[0]
        statement = statement.order_by(order_by if order_by is not None else primary)
        with self.session() as session:
            return session.scalars(statement).all()

    def one(self, model: type[DeclarativeBase], *where: Any) -> Any:
        rows = self.all(model, *where)
        assert len(rows) == 1, f"expected one {model.__name__}, found {len(rows)}"
        return rows[0]

    def count(self, model: type[DeclarativeBase], *where: Any) -> int:
        return len(self.all(model, *where))

    def add(self, *rows: Any) -> None:
        with self.session() as session:
            session.add_all(rows)
            session.commit()


def explain(db: TestDatabase, statement: Any) -> str:
    """The database's plan of `statement`, as text (PostgreSQL told to avoid seq scans, as
    it would on a big table; the test tables are tiny)."""
    compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
    with db.engine.connect() as connection:
        if db.backend == "sqlite":
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").all()
            return "\n".join(str(row[-1]) for row in rows)
        connection.exec_driver_sql("SET enable_seqscan = off")
        rows = connection.exec_driver_sql(f"EXPLAIN {compiled}").all()
        return "\n".join(str(row[0]) for row in rows)
