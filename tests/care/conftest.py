"""Fixtures for data care: the API with a token, Twilio played by the simulator, and a
worker whose passes the test runs."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.clock import ManualClock
from app.config import Settings
from app.models import Recruiter
from app.runtime import Runtime
from app.simulator.recruiter import RecruiterPhone
from app.simulator.twilio import TwilioSimulator
from tests.support.databases import TestDatabase
from tests.support.factories import make_recruiter

API_TOKEN = "care-tests-token-of-enough-length"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"default_region": "GB", "api_tokens": API_TOKEN}


@pytest.fixture
async def api(client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    client.headers["Authorization"] = f"Bearer {API_TOKEN}"
    yield client


@pytest.fixture
def twilio(client: httpx.AsyncClient, settings: Settings) -> TwilioSimulator:
    return TwilioSimulator(
        client,
        auth_token=settings.auth_token,
        public_base_url=settings.public_base_url,
        account_sid=settings.account_sid,
    )


@pytest.fixture
def phone(twilio: TwilioSimulator) -> RecruiterPhone:
    return RecruiterPhone(twilio)


@pytest.fixture
def recruiter(db: TestDatabase) -> Recruiter:
    return make_recruiter(db)


@pytest.fixture
async def runtime(settings: Settings, clock: ManualClock) -> AsyncIterator[Runtime]:
    runtime = Runtime.start(settings, clock)
    yield runtime
    await runtime.stop()
