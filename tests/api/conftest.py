"""Fixtures for the ops API: a client that sends a valid bearer token."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

ENV_TOKEN = "env-secret-token-for-tests"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"api_tokens": ENV_TOKEN, "default_region": "GB"}


@pytest.fixture
async def api(client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """The in-process client, sending the API_TOKENS token (actor `env-token-1`)."""
    client.headers["Authorization"] = f"Bearer {ENV_TOKEN}"
    yield client
