"""Fixtures for the pages: an HTTPS client with a cookie jar, and signing in as ops."""

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

ENV_TOKEN = "env-secret-token-for-web-tests"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"api_tokens": ENV_TOKEN, "default_region": "GB"}


@pytest.fixture
async def web(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client like a browser: HTTPS (the cookie is Secure), keeping cookies, not following
    redirects."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
            yield http


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


async def sign_in(
    http: httpx.AsyncClient, token: str = ENV_TOKEN, next_path: str = "/dashboard"
) -> httpx.Response:
    """Fill in the sign-in form as a person would."""
    form = await http.get("/dashboard/signin")
    data = {"token": token, "csrf": csrf_of(form.text), "next": next_path}
    return await http.post("/dashboard/signin", data=data)


@pytest.fixture
async def ops(web: httpx.AsyncClient) -> httpx.AsyncClient:
    """The client, signed in with the API_TOKENS token (actor `env-token-1`)."""
    answer = await sign_in(web)
    assert answer.status_code == 303, answer.text
    return web


async def post_form(
    http: httpx.AsyncClient, page: str, action: str, data: dict[str, str] | None = None
) -> httpx.Response:
    """Submit a form of `page` (taking its CSRF token) to `action`."""
    shown = await http.get(page)
    assert shown.status_code == 200, shown.text
    return await http.post(action, data={"csrf": csrf_of(shown.text)} | (data or {}))
