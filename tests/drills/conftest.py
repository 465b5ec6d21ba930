"""Fixtures of the fault drills: a private PostgreSQL server they may stop and start, and
the bad-input drill of one route (`route` runs each test on every /twilio/* route)."""

from collections.abc import Iterator

import httpx
import pytest

from tests.drills.drill import Drill, Tables
from tests.drills.webhooks import EXAMPLES, Example, Ids, registered_twilio_routes, seed
from tests.support.databases import TestDatabase
from tests.support.private_postgres import private_postgres
from tests.support.signer import TwilioSigner

__all__ = ["private_postgres"]

ROUTES = registered_twilio_routes()


@pytest.fixture
def ids(db: TestDatabase) -> Ids:
    return seed(db)


@pytest.fixture(params=ROUTES)
def route(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def example(route: str) -> Example:
    if route not in EXAMPLES:
        pytest.fail(f"{route} has no valid webhook in tests/drills/webhooks.py EXAMPLES")
    return EXAMPLES[route]


@pytest.fixture
def drill(
    client: httpx.AsyncClient, signer: TwilioSigner, ids: Ids, example: Example, route: str
) -> Iterator[Drill]:
    drill = Drill(client, signer, ids, example)
    yield drill
    print(f" [{drill.tried} requests to {route}]", end="")  # shown with `pytest -s`


@pytest.fixture
def tables(db: TestDatabase) -> Iterator[Tables]:
    with db.engine.connect() as connection:
        yield Tables(connection)
