"""Fixtures of the ingest tests: two private PostgreSQL schemas, migrated once."""

from collections.abc import Iterator

import pytest

from app.migrate import upgrade
from tests.support.databases import TestDatabase, in_ci, postgres_problem


def _postgres_schema() -> TestDatabase:
    problem = postgres_problem()
    if problem:
        if in_ci():
            pytest.fail(f"PostgreSQL is required in CI (CI=true) but: {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    database = TestDatabase.postgres()
    upgrade(database.url)
    return database


@pytest.fixture(scope="module")
def pg_pair() -> Iterator[tuple[TestDatabase, TestDatabase]]:
    """Two migrated PostgreSQL schemas: one per path of a comparison."""
    first = _postgres_schema()
    second = _postgres_schema()
    yield first, second
    first.drop()
    second.drop()
