"""Fixtures a test folder opts into by importing them into its conftest.py."""

from typing import Any

import pytest

from app.models import Recruiter
from tests.support.databases import TestDatabase
from tests.support.factories import make_recruiter
from tests.support.loop import API_TOKEN, IDENTITY


@pytest.fixture(name="settings_overrides")
def loop_settings() -> dict[str, Any]:
    """Numbers without a country code read as GB; an API token for the actions."""
    return {"default_region": "GB", "api_tokens": API_TOKEN}


@pytest.fixture(name="recruiter")
def recruiter_with_softphone(db: TestDatabase) -> Recruiter:
    """A recruiter with a line, a mobile and a softphone identity."""
    return make_recruiter(db, client_identity=IDENTITY)


@pytest.fixture(autouse=True)
def dates_follow_the_clock(twilio_dates_follow_the_clock: None) -> None:
    """Every test of the folder: the fake stamps what it creates with the test clock."""
