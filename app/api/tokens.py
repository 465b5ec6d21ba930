"""Ops API tokens: created once, stored as SHA-256, compared in constant time, revocable.

Tokens listed in the API_TOKENS setting work too; their actor is `env-token-N` (N counts
from 1 in the order listed). A stored token's actor is its name.
"""

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db import begin_read_only, unit_of_work
from app.errors import Conflict, InvalidInput, NotFound
from app.models import ApiToken
from app.runtime import Runtime

TOKEN_PREFIX = "cp_"
ENV_ACTOR_PREFIX = "env-token-"
# Names other actors already use on the timeline.
_RESERVED = re.compile(r"(?i)^(twilio|worker|env-token-.*)$")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,119}")
# `last_used_at` is a hint for operators, not an audit log: write it at most this often.
_TOUCH_EVERY = timedelta(minutes=5)


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_name(name: str) -> str:
    """The token name, or InvalidInput saying what a name may be."""
    if not _NAME.fullmatch(name):
        raise InvalidInput(
            "a token name is 1-120 letters, digits, '.', '_', '@' or '-', starting with a "
            "letter or digit",
            field="name",
        )
    if _RESERVED.match(name):
        raise InvalidInput(f"{name!r} is reserved for another actor; pick another", field="name")
    return name


async def create_token(session: AsyncSession, *, name: str, at: datetime) -> str:
    """Make a token named `name` and answer its secret (shown this once, stored only as a
    hash); Conflict if a live token already has that name."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    try:
        async with session.begin_nested():
            session.add(
                ApiToken(name=check_name(name), token_hash=hash_token(secret), created_at=at)
            )
    except IntegrityError:
        raise Conflict(f"a live token is already named {name!r}; revoke it first") from None
    return secret


async def list_tokens(session: AsyncSession) -> Sequence[ApiToken]:
    """Every token ever made, live ones first, then by name."""
    return (
        await session.scalars(
            select(ApiToken).order_by(ApiToken.revoked_at.is_not(None), ApiToken.name, ApiToken.id)
        )
    ).all()


async def revoke_token(session: AsyncSession, *, name: str, at: datetime) -> None:
    """Revoke the live token named `name`; NotFound if there is none."""
    revoked = await session.execute(
        update(ApiToken)
        .where(ApiToken.name == name, ApiToken.revoked_at.is_(None))
        .values(revoked_at=at)
        .returning(ApiToken.id)
    )
    if revoked.first() is None:
        raise NotFound(f"no live token is named {name!r}")


def env_actor(secret: str, settings: Settings) -> str | None:
    """`env-token-N` if `secret` is the N-th of API_TOKENS, else None."""
    return env_actor_by_hash(hash_token(secret), settings)


def env_actor_by_hash(digest: str, settings: Settings) -> str | None:
    """`env-token-N` if `digest` hashes the N-th of API_TOKENS, else None; every one is compared."""
    found = None
    for number, configured in enumerate(settings.api_tokens, start=1):
        if hmac.compare_digest(digest, hash_token(configured.get_secret_value())):
            found = found or f"{ENV_ACTOR_PREFIX}{number}"
    return found


async def find_live(session: AsyncSession, secret: str) -> ApiToken | None:
    """The live stored token whose secret is `secret`, or None."""
    return await find_live_by_hash(session, hash_token(secret))


async def find_live_by_hash(session: AsyncSession, digest: str) -> ApiToken | None:
    """The live stored token whose secret hashes to `digest` (a session cookie keeps only
    the hash), or None."""
    token = (
        await session.scalars(
            select(ApiToken).where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None))
        )
    ).one_or_none()
    # The look-up is by hash, so it reveals nothing about the secret; compare in constant
    # time anyway, so no future change of the query can turn it into a timing oracle.
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        return None
    return token


def needs_touch(token: ApiToken, at: datetime) -> bool:
    """Whether `last_used_at` is stale enough to be worth a write."""
    return token.last_used_at is None or at - token.last_used_at >= _TOUCH_EVERY


async def touch(session: AsyncSession, *, token_id: int, at: datetime) -> None:
    """Note that a token was used at `at`."""
    await session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=at))


async def actor_of_hash(runtime: Runtime, digest: str) -> str | None:
    """The actor behind the token whose secret hashes to `digest` (bearer tokens and the
    dashboard's session cookie both ask here, so a revoked token ends both), or None.

    Runs in its own short transactions, before the request's one, so noting the token's
    use never waits on the request's own write lock (SQLite).
    """
    actor = env_actor_by_hash(digest, runtime.settings)
    if actor is not None:
        return actor
    async with runtime.sessions() as session:
        await begin_read_only(session)
        token = await find_live_by_hash(session, digest)
    if token is None:
        return None
    now = runtime.clock.now()
    if needs_touch(token, now):
        async with unit_of_work(runtime.sessions) as session:
            await touch(session, token_id=token.id, at=now)
    return token.name
