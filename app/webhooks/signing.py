"""Standard Webhooks signatures: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.

The `standardwebhooks` package does the same in a few lines but reads secrets leniently
(base64 with stray characters silently dropped); signing is small enough to own, and it
is checked against the specification's test vector.
"""

import base64
import binascii
import hashlib
import hmac
import secrets

PREFIX = "whsec_"
_KEY_BYTES = 32


class InvalidSignature(Exception):
    """The headers do not sign this body with this secret."""


def new_secret() -> str:
    """A fresh `whsec_…` secret: 32 random bytes, base64."""
    return PREFIX + base64.b64encode(secrets.token_bytes(_KEY_BYTES)).decode()


def key_of(secret: str) -> bytes:
    """The HMAC key behind a `whsec_…` secret; ValueError if it is not one."""
    try:
        key = base64.b64decode(secret.removeprefix(PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a webhook secret is `whsec_` and base64") from None
    if not key:
        raise ValueError("a webhook secret may not be empty")
    return key


def sign(secret: str, *, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value for one attempt."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key_of(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, *, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three headers of a signed request."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id=message_id, timestamp=timestamp, body=body),
    }


def verify(
    secret: str, *, received: dict[str, str], body: bytes, now: int, tolerance: int = 300
) -> None:
    """Raise InvalidSignature unless `received` headers sign `body`, within `tolerance` s."""
    lowered = {name.lower(): value for name, value in received.items()}
    message_id, stamp = lowered.get("webhook-id"), lowered.get("webhook-timestamp", "")
    if not message_id or not stamp.isdigit() or abs(now - int(stamp)) > tolerance:
        raise InvalidSignature("missing headers, or a timestamp out of tolerance")
    expected = sign(secret, message_id=message_id, timestamp=int(stamp), body=body)
    given = lowered.get("webhook-signature", "").split()
    if not any(hmac.compare_digest(expected, candidate) for candidate in given):
        raise InvalidSignature("no signature matches")
