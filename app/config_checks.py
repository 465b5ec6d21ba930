"""The checks behind the settings: each takes a value and returns it, or raises ValueError."""

import ipaddress
import re
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator, SecretStr
from pydantic_settings import NoDecode
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from app.durations import format_duration, parse_duration
from app.hours import parse_working_hours
from app.phones import InvalidNumber, to_e164

# The longest gap or backoff a setting may name: further out, date arithmetic on it
# overflows (and no nudge is worth waiting a year for).
LONGEST_DURATION = timedelta(days=365)
LONGEST_PROMISE = timedelta(days=30)  # RETURN_WITHIN: a promise further out is none
# Shorter API tokens can be guessed; `callpledge token create` makes 46 characters.
SHORTEST_API_TOKEN = 20
_DRIVERS = frozenset({"sqlite", "sqlite+aiosqlite", "postgresql", "postgresql+psycopg", "postgres"})
_HOSTNAME = re.compile(r"(?i)^(?!-)[a-z0-9-]{1,63}(?<!-)(?:\.(?!-)[a-z0-9-]{1,63}(?<!-))*\.?$")
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")


class DatabaseUrl(str):
    """A database URL whose repr hides the password; as a string it is the URL itself."""

    def __repr__(self) -> str:
        return repr(make_url(str(self)).render_as_string(hide_password=True))


def blank_is_none(value: Any) -> Any:
    """An empty or blank variable counts as unset."""
    return None if isinstance(value, str) and not value.strip() else value


def parsed_duration(value: Any) -> Any:
    """`2h`-style text as a timedelta; anything else as it is."""
    return parse_duration(value) if isinstance(value, str) else value


def in_range(value: timedelta) -> timedelta:
    """A gap or backoff: longer than zero, at most LONGEST_DURATION."""
    if value <= timedelta(0):
        raise ValueError("must be longer than zero")
    if value > LONGEST_DURATION:
        raise ValueError(
            f"{format_duration(value)} is longer than the most allowed, "
            f"{LONGEST_DURATION.days} days"
        )
    return value


def promise_in_range(value: timedelta) -> timedelta:
    """A promise to call back: longer than zero, at most LONGEST_PROMISE."""
    if value <= timedelta(0) or value > LONGEST_PROMISE:
        raise ValueError(
            f"must be longer than zero and at most {LONGEST_PROMISE.days} days, e.g. 4h"
        )
    return value


# A `2h`-style duration variable, within LONGEST_DURATION.
Duration = Annotated[
    timedelta, NoDecode, BeforeValidator(parsed_duration), AfterValidator(in_range)
]
# RETURN_WITHIN: a `4h`-style promise, within LONGEST_PROMISE.
PromiseWindow = Annotated[
    timedelta, NoDecode, BeforeValidator(parsed_duration), AfterValidator(promise_in_range)
]


def caller_hours_ranges(value: str) -> list[list[str]]:
    """`HH:MM-HH:MM` as the ranges of one day (working_hours' format); ValueError if not."""
    start, _, end = value.strip().partition("-")
    try:
        parse_working_hours({"mon": [[start.strip(), end.strip()]]})
    except ValueError:
        raise ValueError(f"{value!r} is not a range of the day such as 08:00-20:00") from None
    return [[start.strip(), end.strip()]]


def schedule_gaps(value: Any) -> Any:
    """REMINDER_SCHEDULE's comma-separated gaps as timedeltas."""
    if isinstance(value, str):
        gaps = [part for part in value.split(",") if part.strip()]
        if not gaps:
            raise ValueError("needs at least one gap, e.g. 2m,1h,4h,1d")
        return [parse_duration(part) for part in gaps]
    return value


def gaps_in_range(value: list[timedelta]) -> list[timedelta]:
    """At least one gap, each within range."""
    if not value:
        raise ValueError("needs at least one gap, e.g. 2m,1h,4h,1d")
    return [in_range(gap) for gap in value]


def token_list(value: Any) -> Any:
    """API_TOKENS' comma-separated tokens as a list."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def long_tokens(value: list[SecretStr]) -> list[SecretStr]:
    """Every API token long enough not to be guessed."""
    for number, token in enumerate(value, start=1):
        if len(token.get_secret_value()) < SHORTEST_API_TOKEN:
            raise ValueError(
                f"token {number} is shorter than {SHORTEST_API_TOKEN} characters, short "
                f"enough to guess; make one with e.g. `openssl rand -hex 24`"
            )
    return value


def database_url(value: str) -> str:
    """A SQLite file or PostgreSQL URL; messages never repeat it (it may hold a password)."""
    try:
        url = make_url(value)
        port = url.port
    except (ArgumentError, ValueError):
        raise ValueError(
            "is not a database URL such as sqlite:///./callpledge.db or "
            "postgresql://user:password@host:5432/callpledge"
        ) from None
    if url.drivername not in _DRIVERS:
        raise ValueError("must start with sqlite:/// or postgresql://")
    _check_port(port)
    if _in_memory(url):
        raise ValueError(
            "an in-memory SQLite database is empty for each connection; name a file, "
            "e.g. sqlite:///./callpledge.db"
        )
    return DatabaseUrl(value)


def http_url(value: str) -> str:
    """An http(s) URL with a host, no query or fragment, without its trailing slash."""
    problem = "must be an http:// or https:// URL with a host name, without query or fragment"
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise ValueError(problem) from None
    if (
        parts.scheme not in ("http", "https")
        or not _is_host(parts.hostname)
        or "?" in value
        or "#" in value
        or _SPACE_OR_CONTROL.search(value)
    ):
        raise ValueError(problem)
    _check_port(port)
    return value.rstrip("/")


def timezone_name(value: str) -> str:
    """An IANA time zone name."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{value!r} is not an IANA time zone such as Europe/London") from exc
    return value


def region(value: str) -> str:
    """A two-letter region phonenumbers knows, upper-cased."""
    import phonenumbers

    code = value.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"{value!r} is not a two-letter region such as US or GB")
    return code


def phone_number(value: str | None, info: Any) -> str | None:
    """A phone number in E.164, read in DEFAULT_REGION."""
    if value is None:
        return None
    try:
        return to_e164(value, info.data.get("default_region", "US"))
    except InvalidNumber as exc:
        raise ValueError(str(exc)) from exc


def is_loopback(host: str) -> bool:
    """Whether a bind address is loopback only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _check_port(port: int | None) -> None:
    if port is not None and not 1 <= port <= 65535:
        raise ValueError(f"port {port} is not between 1 and 65535")


def _in_memory(url: URL) -> bool:
    """Whether a SQLite URL names no file (every connection gets its own empty database)."""
    if url.get_backend_name() != "sqlite":
        return False
    database = url.database or ""
    return (
        database in ("", ":memory:")
        or database.startswith("file::memory:")
        or url.query.get("mode") == "memory"
    )


def _is_host(host: str | None) -> bool:
    if not host:
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return bool(_HOSTNAME.match(host))
    return True


# The settings' types: each carries its own parsing and checks.
ApiTokens = Annotated[
    list[SecretStr], NoDecode, BeforeValidator(token_list), AfterValidator(long_tokens)
]
Schedule = Annotated[
    list[timedelta], NoDecode, BeforeValidator(schedule_gaps), AfterValidator(gaps_in_range)
]
DatabaseUrlText = Annotated[str, AfterValidator(database_url)]
HttpUrl = Annotated[str, AfterValidator(http_url)]
TimeZoneName = Annotated[str, AfterValidator(timezone_name)]
Region = Annotated[str, AfterValidator(region)]
PhoneNumber = Annotated[str | None, AfterValidator(phone_number)]
