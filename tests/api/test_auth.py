"""Every /api/v1 request needs a bearer token: API_TOKENS, or one made with `token create`."""

import hashlib
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.api import tokens
from app.config import Settings
from app.db import unit_of_work
from app.models import ApiToken, ObligationEvent
from tests.api.conftest import ENV_TOKEN
from tests.support.databases import TestDatabase
from tests.support.factories import T0, make_obligation, make_recruiter

Sessions = async_sessionmaker[AsyncSession]


async def make_token(sessions: Sessions, name: str) -> str:
    async with unit_of_work(sessions) as session:
        return await tokens.create_token(session, name=name, at=T0)


async def revoke(sessions: Sessions, name: str) -> None:
    async with unit_of_work(sessions) as session:
        await tokens.revoke_token(session, name=name, at=T0)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_unauthorized(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"] == "unauthorized"


@pytest.mark.parametrize(
    "path", ["/api/v1/obligations", "/api/v1/recruiters", "/api/v1/calls", "/api/v1/stats"]
)
async def test_a_request_without_a_token_is_refused(client: httpx.AsyncClient, path: str) -> None:
    assert_unauthorized(await client.get(path))


ASKED_BADLY = [
    ("GET", "/api/v1/nowhere", {}, 404),
    ("GET", "/api/v1", {}, 404),
    ("DELETE", "/api/v1/stats", {}, 405),
    ("POST", "/api/v1/recruiters", {"content": b"{not json"}, 422),
    ("POST", "/api/v1/recruiters", {"json": {"name": 5}}, 422),
    ("GET", "/api/v1/obligations/not-a-number", {}, 422),
    ("GET", "/api/v1/obligations?limit=9999", {}, 422),
]


@pytest.mark.parametrize(("method", "path", "request_args", "status"), ASKED_BADLY)
async def test_without_a_token_even_a_bad_request_is_401(
    client: httpx.AsyncClient, method: str, path: str, request_args: dict[str, Any], status: int
) -> None:
    """Nothing about the API (which paths exist, what they take) shows without a token."""
    assert_unauthorized(await client.request(method, path, **request_args))
    authorised = await client.request(method, path, headers=bearer(ENV_TOKEN), **request_args)
    assert authorised.status_code == status


async def test_a_post_without_a_token_changes_nothing(
    db: TestDatabase, client: httpx.AsyncClient
) -> None:
    recruiter = make_recruiter(db)
    db.add(make_obligation(recruiter))
    assert_unauthorized(await client.post("/api/v1/obligations/1/close"))
    assert db.count(ObligationEvent) == 0


@pytest.mark.parametrize(
    "header",
    [f"Basic {ENV_TOKEN}", "Bearer", "Bearer wrong-token", f"Bearer {ENV_TOKEN}x", ENV_TOKEN],
)
async def test_a_wrong_token_or_scheme_is_refused(client: httpx.AsyncClient, header: str) -> None:
    assert_unauthorized(await client.get("/api/v1/obligations", headers={"Authorization": header}))


async def test_the_api_tokens_setting_grants_access_as_env_token_n(
    db: TestDatabase, client: httpx.AsyncClient
) -> None:
    db.add(make_obligation(make_recruiter(db)))
    response = await client.post("/api/v1/obligations/1/close", headers=bearer(ENV_TOKEN))
    assert response.status_code == 200
    assert db.one(ObligationEvent).actor == "env-token-1"


async def test_a_created_token_works_and_its_name_is_the_actor(
    db: TestDatabase, sessions: Sessions, client: httpx.AsyncClient
) -> None:
    db.add(make_obligation(make_recruiter(db)))
    secret = await make_token(sessions, "dana")
    response = await client.post("/api/v1/obligations/1/close", headers=bearer(secret))
    assert response.status_code == 200
    assert response.json()["events"][-1]["actor"] == "dana"
    assert db.one(ApiToken).last_used_at is not None


async def test_a_token_is_stored_only_as_its_sha256(db: TestDatabase, sessions: Sessions) -> None:
    secret = await make_token(sessions, "dana")
    stored = db.one(ApiToken)
    assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in (stored.name, stored.token_hash)


async def test_a_revoked_token_is_refused(
    db: TestDatabase, sessions: Sessions, client: httpx.AsyncClient
) -> None:
    secret = await make_token(sessions, "dana")
    assert (await client.get("/api/v1/stats", headers=bearer(secret))).status_code == 200
    await revoke(sessions, "dana")
    assert_unauthorized(await client.get("/api/v1/stats", headers=bearer(secret)))


async def test_a_name_can_be_reused_once_its_token_is_revoked(
    db: TestDatabase, sessions: Sessions
) -> None:
    await make_token(sessions, "dana")
    with pytest.raises(tokens.Conflict):
        await make_token(sessions, "dana")
    await revoke(sessions, "dana")
    await make_token(sessions, "dana")
    assert db.count(ApiToken) == 2


@pytest.mark.parametrize("name", ["twilio", "worker", "env-token-1", "a b", "", "x:y"])
async def test_names_that_would_pose_as_another_actor_are_refused(
    db: TestDatabase, sessions: Sessions, name: str
) -> None:
    with pytest.raises(tokens.InvalidInput):
        await make_token(sessions, name)


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics", "/openapi.json"])
async def test_health_metrics_and_the_schema_need_no_token(
    client: httpx.AsyncClient, path: str
) -> None:
    assert (await client.get(path)).status_code == 200


def test_each_api_tokens_entry_is_its_own_actor(settings: Settings) -> None:
    one, two = "first-token-of-twenty-chars", "second-token-of-twenty-chars"
    configured = settings.model_copy(update={"api_tokens": [SecretStr(one), SecretStr(two)]})
    assert tokens.env_actor(two, configured) == "env-token-2"
    assert tokens.env_actor(one, configured) == "env-token-1"
    assert tokens.env_actor("third-token-of-twenty-chars", configured) is None
