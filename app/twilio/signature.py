"""Twilio's webhook signature, checked in one pass with a key prepared once.

The algorithm is `twilio.request_validator.RequestValidator.validate`'s (HMAC-SHA1 of the
URL followed by each parameter's name and values, sorted; base64), and it accepts the same
two URLs: the one given with the port Twilio may add (`:443`, `:80`) and without it. The
second is computed only when the first does not match.
"""

import hmac
from base64 import b64encode
from collections.abc import Mapping, Sequence
from functools import lru_cache
from hashlib import sha1
from urllib.parse import urlparse


class SignatureCheck:
    """Verifies X-Twilio-Signature for one auth token."""

    def __init__(self, auth_token: str) -> None:
        self._key = hmac.new(auth_token.encode("utf-8"), digestmod=sha1)

    def signature(self, url: str, params: Mapping[str, Sequence[str]]) -> str:
        """Twilio's signature of `url` and `params` (every value of each name)."""
        mac = self._key.copy()
        mac.update(url.encode("utf-8"))
        for name in sorted(params):
            for value in sorted(set(params[name])):
                mac.update(f"{name}{value}".encode())
        return b64encode(mac.digest()).decode("ascii")

    def valid(self, url: str, params: Mapping[str, Sequence[str]], signature: str) -> bool:
        """Whether `signature` signs `url` (with or without its port) and `params`."""
        expected = signature.encode("utf-8", "surrogatepass")
        first, second = _url_variants(url)
        if hmac.compare_digest(self.signature(first, params).encode("ascii"), expected):
            return True
        return hmac.compare_digest(self.signature(second, params).encode("ascii"), expected)


@lru_cache(maxsize=1024)
def _url_variants(url: str) -> tuple[str, str]:
    """The URL as written (normalised as urlparse does), then the other port variant (kept:
    Twilio calls the same few URLs over and over)."""
    parsed = urlparse(url)
    if parsed.port:
        return parsed.geturl(), parsed._replace(netloc=parsed.netloc.split(":")[0]).geturl()
    port = 443 if parsed.scheme == "https" else 80
    return parsed.geturl(), parsed._replace(netloc=f"{parsed.netloc}:{port}").geturl()
