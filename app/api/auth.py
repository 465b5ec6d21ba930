"""Bearer-token authentication for /api/v1: the answer is the actor the token stands for.

It runs as ASGI middleware, before routing and body parsing, so a request without a valid
token learns nothing about the API: an unknown path, a wrong method or a bad body are a
401 too. Routes read the actor it found with `ActorDep`.
"""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import ASGIApp, Receive, Scope, Send

from app.api import tokens
from app.errors import DATABASE_ERRORS, Unauthorized, database_unavailable, error_response
from app.runtime import Runtime

PREFIX = "/api/v1"
_ACTOR = "callpledge.actor"  # where the middleware leaves the actor in the request's scope
# Documents the scheme in OpenAPI; the middleware has checked the token before this runs.
bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="opaque",
    description="A token from `callpledge token create` or the API_TOKENS setting.",
)


class ApiAuth:
    """Answer 401 to any /api/v1 request without a valid bearer token, before routing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == PREFIX or path.startswith(PREFIX + "/")):
            await self.app(scope, receive, send)
            return
        runtime: Runtime = scope["app"].state.runtime
        secret = _bearer_token(scope)
        try:
            actor = None if secret is None else await actor_of(runtime, secret)
        except DATABASE_ERRORS as exc:
            response = database_unavailable(scope["method"], path, exc)
        else:
            if actor is not None:
                scope[_ACTOR] = actor
                await self.app(scope, receive, send)
                return
            problem = Unauthorized(
                "send Authorization: Bearer <token>"
                if secret is None
                else "the bearer token is not valid or has been revoked"
            )
            response = error_response(401, problem.code, problem.detail, problem.headers)
        await response(scope, receive, send)


def _bearer_token(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            token = token.strip()
            return token if scheme.lower() == "bearer" and token else None
    return None


async def actor_of(runtime: Runtime, secret: str) -> str | None:
    """The actor behind a bearer token's secret, or None."""
    return await tokens.actor_of_hash(runtime, tokens.hash_token(secret))


async def authenticate(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> str:
    """The actor ApiAuth found for this request's token."""
    actor = request.scope.get(_ACTOR)
    if not isinstance(actor, str):  # only if a route were served without the middleware
        raise Unauthorized("send Authorization: Bearer <token>")
    return actor


ActorDep = Annotated[str, Depends(authenticate)]
