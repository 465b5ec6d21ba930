"""Migrations: up, down and up again on both databases, and no drift from the models."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from app.migrate import downgrade, pending, upgrade
from app.models import Base
from tests.support.databases import TestDatabase


def test_upgrade_downgrade_upgrade(db: TestDatabase) -> None:
    downgrade(db.url, "base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    assert pending(db.url)
    upgrade(db.url)
    assert not pending(db.url)
    assert {"obligations", "outbox", "calls"} <= set(inspect(db.engine).get_table_names())


def test_upgrading_twice_changes_nothing(db: TestDatabase) -> None:
    upgrade(db.url)
    upgrade(db.url)
    assert not pending(db.url)


def test_autogenerate_finds_no_difference_from_the_models(db: TestDatabase) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_the_open_obligation_index_is_partial_on_both_databases(db: TestDatabase) -> None:
    indexes = {ix["name"]: ix for ix in inspect(db.engine).get_indexes("obligations")}
    assert indexes["uq_obligations_open_recruiter_caller"]["unique"]
    with db.engine.connect() as connection:
        if db.backend == "sqlite":
            sql = connection.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = 'uq_obligations_open_recruiter_caller'"
            ).scalar_one()
        else:
            sql = connection.exec_driver_sql(
                "SELECT indexdef FROM pg_indexes WHERE indexname = "
                "'uq_obligations_open_recruiter_caller' AND schemaname = current_schema()"
            ).scalar_one()
    assert "WHERE" in sql.upper() and "open" in sql
