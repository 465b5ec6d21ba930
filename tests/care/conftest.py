"""Fixtures for data care: the API with a token, Twilio played by the simulator, and a
worker whose passes the test runs."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.models import Recruiter
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
def recruiter(db: TestDatabase) -> Recruiter:
    return make_recruiter(db)
