"""Fixtures of the reminders tests: a runtime and a worker (`tests.support.loop`) on the test
database and clock, with Twilio's dates following that clock."""

from tests.support.loop_fixtures import dates_follow_the_clock  # noqa: F401 - a fixture
