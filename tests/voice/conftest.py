"""Fixtures of the voice tests: Twilio, the recruiter's phone and the worker (`tests.support.loop`),
a recruiter with a softphone identity, and Twilio's dates following the test clock."""

from tests.support.loop_fixtures import (  # noqa: F401 - fixtures
    dates_follow_the_clock,
    loop_settings,
    recruiter_with_softphone,
)
