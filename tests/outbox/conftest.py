"""Fixtures of the outbox tests: a runtime and a worker (`tests.support.loop`) on the test
database and clock, with Twilio's dates following that clock."""

from collections.abc import Iterator

import pytest

from tests.outbox.processes import kill_leftovers
from tests.support.loop_fixtures import dates_follow_the_clock  # noqa: F401 - a fixture


@pytest.fixture(autouse=True)
def no_process_outlives_its_test() -> Iterator[None]:
    yield
    kill_leftovers()
