"""Signing in to the dashboard: a token for a session cookie; revoking the token ends it."""

from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.api import tokens
from app.clock import ManualClock
from app.config import ConfigError, Settings, load_settings
from app.models import Obligation
from app.web.session import session_key
from tests.support.databases import TestDatabase
from tests.support.factories import make_obligation, make_recruiter
from tests.web.conftest import ENV_TOKEN, csrf_of, sign_in


async def test_a_page_without_a_session_leads_to_sign_in_and_back(
    web: httpx.AsyncClient,
) -> None:
    answer = await web.get("/dashboard/stats?days=30")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/dashboard/signin?next=%2Fdashboard%2Fstats%3Fdays%3D30"
    signed = await sign_in(web, next_path="/dashboard/stats?days=30")
    assert signed.headers["location"] == "/dashboard/stats?days=30"
    assert (await web.get("/dashboard/stats?days=30")).status_code == 200


async def test_the_session_cookie_is_httponly_strict_and_secure(web: httpx.AsyncClient) -> None:
    answer = await sign_in(web)
    cookie = next(
        v for k, v in answer.headers.multi_items() if k == "set-cookie" and "cp_session" in v
    )
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" in cookie
    assert "Max-Age=43200" in cookie
    assert ENV_TOKEN not in cookie


async def test_a_wrong_token_is_refused(web: httpx.AsyncClient) -> None:
    answer = await sign_in(web, token="not-a-token-of-anyone-here")
    assert answer.status_code == 401
    assert "not valid or has been revoked" in answer.text
    assert "cp_session" not in web.cookies
    assert (await web.get("/dashboard")).status_code == 303


async def test_sign_in_without_the_forms_csrf_token_is_refused(web: httpx.AsyncClient) -> None:
    await web.get("/dashboard/signin")
    answer = await web.post("/dashboard/signin", data={"token": ENV_TOKEN, "csrf": "forged"})
    assert answer.status_code == 401
    assert "cp_session" not in web.cookies


async def test_next_never_leads_off_the_dashboard(web: httpx.AsyncClient) -> None:
    for target in ("https://evil.example/", "//evil.example/x", "/pledge", "/dashboard\\@evil"):
        web.cookies.clear()
        answer = await sign_in(web, next_path=target)
        assert answer.headers["location"] == "/dashboard", target


async def test_revoking_the_token_signs_its_sessions_out(
    web: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    async with sessions.begin() as session:
        secret = await tokens.create_token(session, name="dana", at=clock.now())
    await sign_in(web, token=secret)
    board = await web.get("/dashboard")
    assert board.status_code == 200 and "dana" in board.text
    async with sessions.begin() as session:
        await tokens.revoke_token(session, name="dana", at=clock.now())
    assert (await web.get("/dashboard")).status_code == 303


async def test_a_session_ends_after_twelve_hours(
    web: httpx.AsyncClient, clock: ManualClock
) -> None:
    await sign_in(web)
    clock.advance(timedelta(hours=11, minutes=59))
    assert (await web.get("/dashboard")).status_code == 200
    clock.advance(timedelta(minutes=2))
    assert (await web.get("/dashboard")).status_code == 303


async def test_a_tampered_cookie_is_no_session(web: httpx.AsyncClient) -> None:
    await sign_in(web)
    value = web.cookies["cp_session"]
    web.cookies.set("cp_session", value[:-2] + ("AA" if value[-2:] != "AA" else "BB"))
    assert (await web.get("/dashboard")).status_code == 303


async def test_a_form_without_its_csrf_token_changes_nothing(
    ops: httpx.AsyncClient, db: TestDatabase
) -> None:
    recruiter = make_recruiter(db)
    obligation = make_obligation(recruiter)
    db.add(obligation)
    answer = await ops.post(f"/dashboard/obligations/{obligation.id}/close", data={})
    assert answer.status_code == 403
    forged = await ops.post(
        f"/dashboard/obligations/{obligation.id}/close", data={"csrf": "x" * 43}
    )
    assert forged.status_code == 403
    assert db.one(Obligation, Obligation.id == obligation.id).status == "open"


async def test_sign_out_ends_the_session(ops: httpx.AsyncClient) -> None:
    board = await ops.get("/dashboard")
    answer = await ops.post("/dashboard/signout", data={"csrf": csrf_of(board.text)})
    assert answer.headers["location"] == "/dashboard/signin"
    assert (await ops.get("/dashboard")).status_code == 303


async def test_htmx_polls_are_sent_to_sign_in_by_header(web: httpx.AsyncClient) -> None:
    answer = await web.get("/dashboard/board?status=open", headers={"HX-Request": "true"})
    assert answer.headers["hx-redirect"].startswith("/dashboard/signin?next=")


def test_the_session_key_comes_from_session_secret_else_the_auth_token() -> None:
    base = {"_env_file": None}
    chosen = Settings(**base, session_secret="s" * 32)  # type: ignore[arg-type]
    other = Settings(**base, session_secret="t" * 32)  # type: ignore[arg-type]
    twilio = Settings(
        **base,  # type: ignore[arg-type]
        twilio_account_sid="AC" + "1" * 32,
        twilio_auth_token="real-auth-token",
    )
    assert session_key(chosen) != session_key(other)
    assert session_key(twilio) == session_key(twilio.model_copy())  # stable across restarts
    assert session_key(twilio) != session_key(chosen)
    demo = Settings(**base)  # type: ignore[arg-type]
    assert session_key(demo) not in {session_key(chosen), session_key(twilio)}


def test_a_short_session_secret_stops_the_service() -> None:
    with pytest.raises(ConfigError, match="^SESSION_SECRET: is shorter than 32 characters"):
        load_settings(_env_file=None, session_secret="too-short")
