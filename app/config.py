"""Settings: every variable of the contract, read from the environment and `.env`."""

from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.config_checks import (
    ApiTokens,
    DatabaseUrlText,
    Duration,
    HttpUrl,
    PhoneNumber,
    PromiseWindow,
    Region,
    Schedule,
    TimeZoneName,
    blank_is_none,
    caller_hours_ranges,
    is_loopback,
)
from app.durations import parse_duration

# Documented in the README: webhooks in demo mode are signed with this token.
DEMO_AUTH_TOKEN = "callpledge-demo-auth-token"
DEMO_ACCOUNT_SID = "AC00000000000000000000000000000000"


class SmsBackend(StrEnum):
    AUTO = "auto"
    TWILIO = "twilio"
    CONSOLE = "console"


class ConfigError(Exception):
    """A setting has a value the service cannot run with; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    database_url: DatabaseUrlText = "sqlite:///./callpledge.db"
    public_base_url: HttpUrl = "http://127.0.0.1:8000"
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_api_url: HttpUrl = "https://api.twilio.com"
    sms_backend: SmsBackend = SmsBackend.AUTO
    twilio_messaging_service_sid: str | None = None
    api_tokens: ApiTokens = Field(default_factory=list)
    reminder_schedule: Schedule = Field(
        default_factory=lambda: [parse_duration(d) for d in ("2m", "1h", "4h", "1d")]
    )
    reminder_max: int = Field(default=10, ge=1, le=1000)
    retry_max_backoff: Duration = timedelta(minutes=5)
    escalate_after: int = Field(default=3, ge=1, le=1000)
    worker_poll_seconds: float = Field(default=5.0, gt=0, le=3600)
    default_timezone: TimeZoneName = "UTC"
    default_region: Region = "US"
    escalation_number: PhoneNumber = None  # after default_region: it is read in that region
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
    return_within: PromiseWindow = timedelta(hours=4)
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
        "caller_text",
        "team_name",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return blank_is_none(value)

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
        if self.demo_mode and not is_loopback(host):
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
