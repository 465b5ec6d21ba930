"""The dashboard's signed session cookie and its CSRF tokens.

The cookie holds the hash of the API token signed in with (never the token), a random
nonce and an expiry, signed with HMAC-SHA256. Each request checks the hash against the
live tokens, so revoking a token signs its sessions out. CSRF tokens are an HMAC of the
session's nonce: a form from another site cannot know it.
"""

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.config import Settings

COOKIE = "cp_session"
SIGNIN_COOKIE = "cp_signin"  # binds the sign-in form's CSRF token before there is a session
LIFETIME = timedelta(hours=12)
_KEY_CONTEXT = b"callpledge dashboard session v1"
# Demo mode has no secret to derive from: one random key per process.
_PROCESS_KEY = secrets.token_bytes(32)


def session_key(settings: Settings) -> bytes:
    """SESSION_SECRET, else a key derived from TWILIO_AUTH_TOKEN, else this process's own."""
    if settings.session_secret is not None:
        secret = settings.session_secret.get_secret_value().encode()
    elif settings.twilio_auth_token is not None:
        secret = settings.twilio_auth_token.get_secret_value().encode()
    else:
        return _PROCESS_KEY
    return hmac.new(secret, _KEY_CONTEXT, hashlib.sha256).digest()


@dataclass(frozen=True)
class Session:
    """Who signed in (by token hash), the session's nonce, and when it ends."""

    token_hash: str
    nonce: str
    expires_at: datetime


class Sealer:
    """Signs and checks cookie values and CSRF tokens with one key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def seal(self, payload: dict[str, Any]) -> str:
        data = _b64(json.dumps(payload, separators=(",", ":")).encode())
        return f"{data}.{self._mac(data)}"

    def unseal(self, value: str) -> dict[str, Any] | None:
        """The payload of a value this key sealed, or None."""
        data, _, mac = value.partition(".")
        if not mac or not hmac.compare_digest(mac, self._mac(data)):
            return None
        try:
            payload = json.loads(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))
        except ValueError:
            return None
        return payload if isinstance(payload, dict) else None

    def csrf(self, nonce: str) -> str:
        return self._mac("csrf:" + nonce)

    def csrf_ok(self, nonce: str, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given, self.csrf(nonce))

    def new_session(self, token_hash: str, now: datetime) -> tuple[str, Session]:
        """A sealed cookie value for a fresh session, and the session."""
        session = Session(token_hash, secrets.token_urlsafe(18), now + LIFETIME)
        payload = {"h": token_hash, "n": session.nonce, "e": int(session.expires_at.timestamp())}
        return self.seal(payload), session

    def open_session(self, value: str | None, now: datetime) -> Session | None:
        """The unexpired session a cookie value holds, or None."""
        payload = self.unseal(value) if value else None
        if payload is None:
            return None
        try:
            token_hash, nonce, expires = str(payload["h"]), str(payload["n"]), int(payload["e"])
        except (KeyError, TypeError, ValueError):
            return None
        expires_at = datetime.fromtimestamp(expires, now.tzinfo)
        return Session(token_hash, nonce, expires_at) if now < expires_at else None

    def _mac(self, data: str) -> str:
        return _b64(hmac.new(self._key, data.encode(), hashlib.sha256).digest())


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
