"""Signing in to the dashboard with an ops API token, signing out, and who is signed in."""

import re
import secrets
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from app.api import tokens
from app.errors import Forbidden
from app.http.deps import RuntimeDep
from app.web.render import page
from app.web.session import COOKIE, LIFETIME, SIGNIN_COOKIE, Sealer, session_key

router = APIRouter(prefix="/dashboard")
HOME = "/dashboard"
# Only the dashboard's own pages are places to go back to: no open redirect.
_LOCAL = re.compile(r"^/dashboard(?:/[A-Za-z0-9_\-/]*)?(?:\?[A-Za-z0-9_\-=&%.+]*)?$")


class SignInRequired(Exception):
    """No valid session: go to the sign-in page, and back to `next_path` after."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


@dataclass(frozen=True)
class Operator:
    """The signed-in ops user: the token's actor name, and the session's CSRF token."""

    actor: str
    csrf: str
    nonce: str


def sealer_of(request: Request) -> Sealer:
    """The app's one Sealer, made on first use from the settings."""
    sealer: Sealer | None = getattr(request.app.state, "web_sealer", None)
    if sealer is None:
        sealer = Sealer(session_key(request.app.state.runtime.settings))
        request.app.state.web_sealer = sealer
    return sealer


def local_path(value: str | None) -> str:
    """`value` if it is a dashboard path, else the board."""
    return value if value and _LOCAL.fullmatch(value) else HOME


async def signed_in(request: Request, runtime: RuntimeDep) -> Operator:
    """The operator of a live session; SignInRequired otherwise."""
    sealer = sealer_of(request)
    session = sealer.open_session(request.cookies.get(COOKIE), runtime.clock.now())
    actor = None if session is None else await tokens.actor_of_hash(runtime, session.token_hash)
    if session is None or actor is None:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(local_path(here))
    return Operator(actor, sealer.csrf(session.nonce), session.nonce)


OperatorDep = Annotated[Operator, Depends(signed_in)]


async def checked(request: Request, operator: OperatorDep) -> Operator:
    """The operator, for a form whose CSRF token matches their session."""
    form = await request.form()
    given = form.get("csrf") or request.headers.get("x-csrf-token")
    if not sealer_of(request).csrf_ok(operator.nonce, given if isinstance(given, str) else None):
        raise Forbidden("this form is stale or came from another site; reload the page")
    return operator


ActingDep = Annotated[Operator, Depends(checked)]


def to_sign_in(request: Request, exc: Exception) -> Response:
    """Where SignInRequired leads: the sign-in page (htmx follows HX-Redirect)."""
    assert isinstance(exc, SignInRequired)
    target = f"/dashboard/signin?next={quote(exc.next_path, safe='')}"
    if request.headers.get("hx-request"):
        return Response(status_code=200, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


@router.get("/signin", include_in_schema=False)
async def signin_form(request: Request, next: str | None = None) -> Response:
    return _signin_page(request, local_path(next), error=None)


@router.post("/signin", include_in_schema=False)
async def signin(
    request: Request,
    runtime: RuntimeDep,
    token: Annotated[str, Form(max_length=400)] = "",
    csrf: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=400)] = HOME,
) -> Response:
    sealer = sealer_of(request)
    if not sealer.csrf_ok(request.cookies.get(SIGNIN_COOKIE, ""), csrf):
        return _signin_page(request, local_path(next), error="The form expired; try again.")
    digest = tokens.hash_token(token.strip())
    if not token.strip() or await tokens.actor_of_hash(runtime, digest) is None:
        return _signin_page(
            request, local_path(next), error="That token is not valid or has been revoked."
        )
    value, _session = sealer.new_session(digest, runtime.clock.now())
    response = RedirectResponse(local_path(next), status_code=303)
    _set_cookie(response, request, COOKIE, value, int(LIFETIME.total_seconds()))
    response.delete_cookie(SIGNIN_COOKIE, path="/dashboard")
    return response


@router.post("/signout", include_in_schema=False)
async def signout(_operator: ActingDep) -> Response:
    response = RedirectResponse("/dashboard/signin", status_code=303)
    response.delete_cookie(COOKIE, path="/dashboard")
    return response


def _signin_page(request: Request, next_path: str, *, error: str | None) -> Response:
    nonce = secrets.token_urlsafe(18)
    context = {"next": next_path, "csrf": sealer_of(request).csrf(nonce), "error": error}
    response = page(request, "signin.html", context, status_code=401 if error else 200)
    _set_cookie(response, request, SIGNIN_COOKIE, nonce, 3600)
    return response


def _set_cookie(response: Response, request: Request, name: str, value: str, age: int) -> None:
    secure = request.app.state.runtime.settings.public_base_url.startswith("https://")
    response.set_cookie(
        name, value, max_age=age, path="/dashboard", secure=secure, httponly=True, samesite="strict"
    )
