"""Which receiver URLs a subscription may name: refused clearly, before anything is stored."""

import ipaddress
import re
from urllib.parse import urlsplit

from app.errors import InvalidInput

LONGEST_URL = 2000
# Cloud metadata services answer on these names (their addresses are link-local).
_METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "instance-data"})
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")


def checked_url(url: str, *, allow_insecure: bool) -> str:
    """The URL, if a subscription may name it; InvalidInput saying why not otherwise."""
    if len(url) > LONGEST_URL or _SPACE_OR_CONTROL.search(url):
        raise _refused(f"must be at most {LONGEST_URL} characters, without spaces")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise _refused("is not a URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _refused("must be an https:// URL with a host name")
    if "@" in parts.netloc:
        raise _refused("must not carry a user name or password; put secrets in the path")
    if parts.fragment or url.endswith("#"):
        raise _refused("must not have a #fragment (it is never sent)")
    host = parts.hostname.rstrip(".").lower()
    _check_host(host)
    if parts.scheme == "http" and not allow_insecure and not _is_loopback(host):
        raise _refused(
            "must be https:// (http:// only on loopback, unless ALLOW_INSECURE_WEBHOOKS=true)"
        )
    return url


def _check_host(host: str) -> None:
    if host in _METADATA_HOSTS:
        raise _refused("names a cloud metadata service")
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return
    if address.is_link_local or address.is_unspecified or address.is_multicast:
        raise _refused("names a link-local, unspecified or multicast address")


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _refused(problem: str) -> InvalidInput:
    return InvalidInput(f"url {problem}", field="url")
