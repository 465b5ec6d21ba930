"""Bearer-token authentication for /api/v1: the answer is the actor the token stands for."""

from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app import tokens
from app.db import begin_read_only, unit_of_work
from app.deps import RuntimeDep
from app.errors import Unauthorized

# auto_error=False: FastAPI's own answer would not be our 401 with WWW-Authenticate.
bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="opaque",
    description="A token from `callpledge token create` or the API_TOKENS setting.",
)


async def authenticate(
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> str:
    """The actor behind the request's bearer token, or 401.

    Runs in its own short transactions, before the request's one, so noting the token's
    use never waits on the request's own write lock (SQLite).
    """
    if credentials is None or not credentials.credentials:
        raise Unauthorized("send Authorization: Bearer <token>")
    secret = credentials.credentials
    actor = tokens.env_actor(secret, runtime.settings)
    if actor is not None:
        return actor
    async with runtime.sessions() as session:
        await begin_read_only(session)
        token = await tokens.find_live(session, secret)
    if token is None:
        raise Unauthorized("the bearer token is not valid or has been revoked")
    now = runtime.clock.now()
    if tokens.needs_touch(token, now):
        async with unit_of_work(runtime.sessions) as session:
            await tokens.touch(session, token_id=token.id, at=now)
    return token.name


ActorDep = Annotated[str, Depends(authenticate)]
