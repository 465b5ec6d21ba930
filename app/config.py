"""Settings: every variable of the contract, read from the environment and `.env`."""

import ipaddress
import re
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from app.durations import format_duration, parse_duration
from app.hours import parse_working_hours
from app.phones import InvalidNumber, to_e164

# Documented in the README: webhooks in demo mode are signed with this token.
DEMO_AUTH_TOKEN = "callpledge-demo-auth-token"
DEMO_ACCOUNT_SID = "AC00000000000000000000000000000000"
# The longest gap or backoff a setting may name: further out, date arithmetic on it
# overflows (and no nudge is worth waiting a year for).
LONGEST_DURATION = timedelta(days=365)
LONGEST_PROMISE = timedelta(days=30)  # RETURN_WITHIN: a promise further out is none
# Shorter API tokens can be guessed; `callpledge token create` makes 46 characters.
SHORTEST_API_TOKEN = 20
_DRIVERS = frozenset({"sqlite", "sqlite+aiosqlite", "postgresql", "postgresql+psycopg", "postgres"})
_HOSTNAME = re.compile(r"(?i)^(?!-)[a-z0-9-]{1,63}(?<!-)(?:\.(?!-)[a-z0-9-]{1,63}(?<!-))*\.?$")
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")


class SmsBackend(StrEnum):
    AUTO = "auto"
    TWILIO = "twilio"
    CONSOLE = "console"


class ConfigError(Exception):
    """A setting has a value the service cannot run with; the message names the variable."""


Duration = Annotated[timedelta, NoDecode]


class DatabaseUrl(str):
    """A database URL whose repr hides the password; as a string it is the URL itself."""

    def __repr__(self) -> str:
        return repr(make_url(str(self)).render_as_string(hide_password=True))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    database_url: str = "sqlite:///./callpledge.db"
    public_base_url: str = "http://127.0.0.1:8000"
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_api_url: str = "https://api.twilio.com"
    sms_backend: SmsBackend = SmsBackend.AUTO
    twilio_messaging_service_sid: str | None = None
    api_tokens: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    reminder_schedule: Annotated[list[timedelta], NoDecode] = Field(
        default_factory=lambda: [parse_duration(d) for d in ("2m", "1h", "4h", "1d")]
    )
    reminder_max: int = Field(default=10, ge=1, le=1000)
    retry_max_backoff: Duration = timedelta(minutes=5)
    escalate_after: int = Field(default=3, ge=1, le=1000)
    worker_poll_seconds: float = Field(default=5.0, gt=0, le=3600)
    default_timezone: str = "UTC"
    default_region: str = "US"
    escalation_number: str | None = None  # after default_region: it is read in that region
    call_timeout_seconds: int = Field(default=20, ge=5, le=600)
    # For tests only: read "now" from this file, so a worker subprocess shares the test's clock.
    callpledge_clock_file: Path | None = None
    # Signs the dashboard's session cookies; unset: derived from TWILIO_AUTH_TOKEN, or random
    # per process in demo mode (sessions then end when the service restarts).
    session_secret: SecretStr | None = Field(default=None, repr=False)
    # Event webhooks and data care (issue 16).
    allow_insecure_webhooks: bool = False
    webhook_disable_after_days: int = Field(default=5, ge=1, le=365)
    retention_days: int | None = Field(default=None, ge=1, le=36500)
    # Caller courtesy (app/courtesy): None means on in demo mode, off with Twilio credentials.
    caller_text: bool | None = None
    return_within: Duration = timedelta(hours=4)
    caller_text_hours: str = "08:00-20:00"
    caller_close_text: bool = False
    team_name: str | None = Field(default=None, max_length=60)

    @field_validator(
        "twilio_account_sid",
        "twilio_messaging_service_sid",
        "escalation_number",
        "twilio_auth_token",
        "callpledge_clock_file",
        "session_secret",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("caller_text", "team_name", mode="before")
    @classmethod
    def _blank_is_default(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("return_within", mode="before")
    @classmethod
    def _return_within(cls, value: Any) -> Any:
        return parse_duration(value) if isinstance(value, str) else value

    @field_validator("return_within")
    @classmethod
    def _promise_in_range(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0) or value > LONGEST_PROMISE:
            raise ValueError(
                f"must be longer than zero and at most {LONGEST_PROMISE.days} days, e.g. 4h"
            )
        return value

    @field_validator("caller_text_hours")
    @classmethod
    def _caller_hours(cls, value: str) -> str:
        caller_hours_ranges(value)
        return value.strip()

    @field_validator("twilio_auth_token")
    @classmethod
    def _real_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value() == DEMO_AUTH_TOKEN:
            raise ValueError(
                "is the public demo token from the README, which anyone can sign with; set "
                "your account's auth token, or leave it unset for demo mode (loopback only)"
            )
        return value

    @field_validator("session_secret")
    @classmethod
    def _long_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("is shorter than 32 characters; make one with `openssl rand -hex 32`")
        return value

    @field_validator("retry_max_backoff", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return parse_duration(value) if isinstance(value, str) else value

    @field_validator("retry_max_backoff")
    @classmethod
    def _backoff_in_range(cls, value: timedelta) -> timedelta:
        return _in_range(value)

    @field_validator("reminder_schedule", mode="before")
    @classmethod
    def _schedule(cls, value: Any) -> Any:
        if isinstance(value, str):
            gaps = [part for part in value.split(",") if part.strip()]
            if not gaps:
                raise ValueError("needs at least one gap, e.g. 2m,1h,4h,1d")
            return [parse_duration(part) for part in gaps]
        return value

    @field_validator("reminder_schedule")
    @classmethod
    def _gaps_in_range(cls, value: list[timedelta]) -> list[timedelta]:
        if not value:
            raise ValueError("needs at least one gap, e.g. 2m,1h,4h,1d")
        return [_in_range(gap) for gap in value]

    @field_validator("api_tokens", mode="before")
    @classmethod
    def _tokens(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("api_tokens")
    @classmethod
    def _long_tokens(cls, value: list[SecretStr]) -> list[SecretStr]:
        for number, token in enumerate(value, start=1):
            if len(token.get_secret_value()) < SHORTEST_API_TOKEN:
                raise ValueError(
                    f"token {number} is shorter than {SHORTEST_API_TOKEN} characters, short "
                    f"enough to guess; make one with e.g. `openssl rand -hex 24`"
                )
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        # Messages never repeat the value: it may hold a password.
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
        if port is not None and not 1 <= port <= 65535:
            raise ValueError(f"port {port} is not between 1 and 65535")
        if _in_memory(url):
            raise ValueError(
                "an in-memory SQLite database is empty for each connection; name a file, "
                "e.g. sqlite:///./callpledge.db"
            )
        return DatabaseUrl(value)

    @field_validator("public_base_url", "twilio_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
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
        if port is not None and not 1 <= port <= 65535:
            raise ValueError(f"port {port} is not between 1 and 65535")
        return value.rstrip("/")

    @field_validator("default_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not an IANA time zone such as Europe/London") from exc
        return value

    @field_validator("default_region")
    @classmethod
    def _region(cls, value: str) -> str:
        import phonenumbers

        region = value.strip().upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{value!r} is not a two-letter region such as US or GB")
        return region

    @field_validator("escalation_number")
    @classmethod
    def _escalation(cls, value: str | None, info: Any) -> str | None:
        if value is None:
            return None
        region = info.data.get("default_region", "US")
        try:
            return to_e164(value, region)
        except InvalidNumber as exc:
            raise ValueError(str(exc)) from exc

    @property
    def demo_mode(self) -> bool:
        """No Twilio credentials: webhooks are checked with the documented demo token."""
        return self.twilio_auth_token is None

    @property
    def auth_token(self) -> str:
        """The secret webhook signatures are checked with."""
        if self.twilio_auth_token is None:
            return DEMO_AUTH_TOKEN
        return self.twilio_auth_token.get_secret_value()

    @property
    def account_sid(self) -> str:
        return self.twilio_account_sid or DEMO_ACCOUNT_SID

    @property
    def sends_through_twilio(self) -> bool:
        """Whether SMS and calls go to the Twilio API rather than the console."""
        if self.sms_backend is SmsBackend.AUTO:
            return self.twilio_account_sid is not None and self.twilio_auth_token is not None
        return self.sms_backend is SmsBackend.TWILIO

    def check_bind(self, host: str) -> None:
        """Refuse to serve beyond loopback while webhooks are checked with the demo token."""
        if self.demo_mode and not _is_loopback(host):
            raise ConfigError(
                f"TWILIO_AUTH_TOKEN: not set, so webhooks are checked with the public demo "
                f"token; that is allowed only on a loopback address, not on {host!r}"
            )

    @property
    def caller_text_on(self) -> bool:
        """Whether callers get text-backs: CALLER_TEXT, by default on in demo mode only (a
        real account needs A2P registration for it first)."""
        return self.demo_mode if self.caller_text is None else self.caller_text

    def public_url(self, path: str) -> str:
        """An absolute URL of this service, as Twilio reaches it."""
        return f"{self.public_base_url}{path}"

    @field_validator("retention_days", mode="before")
    @classmethod
    def _retention_off(cls, value: Any) -> Any:
        return None if isinstance(value, str) and value.strip().lower() in ("", "off") else value


def caller_hours_ranges(value: str) -> list[list[str]]:
    """`HH:MM-HH:MM` as the ranges of one day (working_hours' format); ValueError if not."""
    start, _, end = value.strip().partition("-")
    try:
        parse_working_hours({"mon": [[start.strip(), end.strip()]]})
    except ValueError:
        raise ValueError(f"{value!r} is not a range of the day such as 08:00-20:00") from None
    return [[start.strip(), end.strip()]]


def _in_range(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("must be longer than zero")
    if value > LONGEST_DURATION:
        raise ValueError(
            f"{format_duration(value)} is longer than the most allowed, "
            f"{LONGEST_DURATION.days} days"
        )
    return value


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


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def load_settings(**overrides: Any) -> Settings:
    """Read the settings; raise ConfigError naming the first bad variable."""
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        error = exc.errors()[0]
        variable = str(error["loc"][0]).upper() if error["loc"] else "settings"
        message = str(error["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{variable}: {message}") from None
    _check_credentials(settings)
    return settings


def _check_credentials(settings: Settings) -> None:
    """Both Twilio credentials or neither: nothing starts half-configured."""
    given = {
        "TWILIO_ACCOUNT_SID": settings.twilio_account_sid is not None,
        "TWILIO_AUTH_TOKEN": settings.twilio_auth_token is not None,
    }
    missing = [name for name, present in given.items() if not present]
    if settings.sms_backend is SmsBackend.TWILIO and missing:
        raise ConfigError(
            "SMS_BACKEND: twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN to be set"
        )
    if settings.sms_backend is SmsBackend.AUTO and len(missing) == 1:
        other = next(name for name, present in given.items() if present)
        raise ConfigError(
            f"{missing[0]}: not set, though {other} is; set both to send through Twilio, "
            f"or neither for demo mode"
        )
