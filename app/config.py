"""Settings: every variable of the contract, read from the environment and `.env`."""

import ipaddress
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.durations import parse_duration
from app.phones import InvalidNumber, to_e164

# Documented in the README: webhooks in demo mode are signed with this token.
DEMO_AUTH_TOKEN = "callpledge-demo-auth-token"
DEMO_ACCOUNT_SID = "AC00000000000000000000000000000000"


class SmsBackend(StrEnum):
    AUTO = "auto"
    TWILIO = "twilio"
    CONSOLE = "console"


class ConfigError(Exception):
    """A setting has a value the service cannot run with; the message names the variable."""


Duration = Annotated[timedelta, NoDecode]


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

    @field_validator(
        "twilio_account_sid",
        "twilio_messaging_service_sid",
        "escalation_number",
        "twilio_auth_token",
        "callpledge_clock_file",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("retry_max_backoff", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return parse_duration(value) if isinstance(value, str) else value

    @field_validator("reminder_schedule", mode="before")
    @classmethod
    def _schedule(cls, value: Any) -> Any:
        if isinstance(value, str):
            gaps = [part for part in value.split(",") if part.strip()]
            if not gaps:
                raise ValueError("needs at least one gap, e.g. 2m,1h,4h,1d")
            return [parse_duration(part) for part in gaps]
        return value

    @field_validator("api_tokens", mode="before")
    @classmethod
    def _tokens(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        scheme = value.split(":", 1)[0]
        if scheme not in {
            "sqlite",
            "sqlite+aiosqlite",
            "postgresql",
            "postgresql+psycopg",
            "postgres",
        }:
            raise ValueError("must start with sqlite:/// or postgresql://")
        return value

    @field_validator("public_base_url", "twilio_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")) or "?" in value or "#" in value:
            raise ValueError("must be an http:// or https:// URL without query or fragment")
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

    def public_url(self, path: str) -> str:
        """An absolute URL of this service, as Twilio reaches it."""
        return f"{self.public_base_url}{path}"


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
    if settings.sends_through_twilio and not (
        settings.twilio_account_sid and settings.twilio_auth_token
    ):
        raise ConfigError(
            "SMS_BACKEND: twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN to be set"
        )
    return settings
