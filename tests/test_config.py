"""Settings: every contract variable, durations, and one clear line for a bad value."""

from datetime import timedelta

import pytest

from app.config import DEMO_AUTH_TOKEN, ConfigError, Settings, load_settings
from app.durations import format_duration, parse_duration


def load(**env: str) -> Settings:
    return load_settings(_env_file=None, **env)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("15m", 900),
        ("2h", 7200),
        ("1d", 86400),
        ("90s", 90),
        ("1h30m", 5400),
        (" 2H ", 7200),
    ],
)
def test_durations_are_read_in_seconds_minutes_hours_and_days(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "10", "h", "-5m", "1w", "0s", "1.5h", "2 hours", "m5"])
def test_anything_else_is_not_a_duration(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_durations_are_written_back_in_their_shortest_form() -> None:
    assert format_duration(timedelta(minutes=90)) == "1h30m"
    assert format_duration(timedelta(days=1)) == "1d"


def test_defaults_follow_the_contract() -> None:
    settings = load()
    assert settings.database_url == "sqlite:///./callpledge.db"
    assert settings.public_base_url == "http://127.0.0.1:8000"
    assert settings.twilio_api_url == "https://api.twilio.com"
    assert settings.reminder_schedule == [
        timedelta(minutes=2),
        timedelta(hours=1),
        timedelta(hours=4),
        timedelta(days=1),
    ]
    assert (settings.reminder_max, settings.escalate_after) == (10, 3)
    assert settings.retry_max_backoff == timedelta(minutes=5)
    assert settings.worker_poll_seconds == 5
    assert (settings.default_timezone, settings.default_region) == ("UTC", "US")
    assert settings.call_timeout_seconds == 20
    assert settings.demo_mode and settings.auth_token == DEMO_AUTH_TOKEN
    assert not settings.sends_through_twilio


def test_variables_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMINDER_SCHEDULE", "30s, 5m")
    monkeypatch.setenv("API_TOKENS", "alpha-token-of-twenty-chars,beta-token-of-twenty-chars")
    monkeypatch.setenv("DEFAULT_REGION", "gb")
    monkeypatch.setenv("ESCALATION_NUMBER", "07700 900123")
    settings = load()
    assert settings.reminder_schedule == [timedelta(seconds=30), timedelta(minutes=5)]
    assert [token.get_secret_value() for token in settings.api_tokens] == [
        "alpha-token-of-twenty-chars",
        "beta-token-of-twenty-chars",
    ]
    assert settings.default_region == "GB"
    assert settings.escalation_number == "+447700900123"


def test_variables_are_read_from_a_dotenv_file(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("REMINDER_MAX=4\nCALL_TIMEOUT_SECONDS=25\n")
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert (settings.reminder_max, settings.call_timeout_seconds) == (4, 25)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("REMINDER_SCHEDULE", "2m,soon"),
        ("RETRY_MAX_BACKOFF", "forever"),
        ("REMINDER_MAX", "0"),
        ("DEFAULT_TIMEZONE", "Mars/Olympus"),
        ("DEFAULT_REGION", "XX"),
        ("DATABASE_URL", "mysql://x"),
        ("PUBLIC_BASE_URL", "callpledge.example.com"),
        ("PUBLIC_BASE_URL", "http://"),
        ("PUBLIC_BASE_URL", "https://exa mple.com"),
        ("PUBLIC_BASE_URL", "https://example.com:0"),
        ("PUBLIC_BASE_URL", "https://example.com/?x=1"),
        ("PUBLIC_BASE_URL", "https://example.com/#rc=3"),
        ("TWILIO_API_URL", "https://"),
        ("TWILIO_API_URL", "https://api.twilio.com:99999"),
        ("DATABASE_URL", "callpledge.db"),
        ("DATABASE_URL", "postgresql://callpledge@db:port/callpledge"),
        ("DATABASE_URL", "postgresql://callpledge@db:70000/callpledge"),
        ("DATABASE_URL", "sqlite://"),
        ("DATABASE_URL", "sqlite:///:memory:"),
        ("DATABASE_URL", "sqlite:///file::memory:?cache=shared"),
        ("API_TOKENS", "x"),
        ("API_TOKENS", "a-long-enough-token-for-the-api,short"),
        ("REMINDER_SCHEDULE", "9999999d"),
        ("REMINDER_SCHEDULE", "2m,366d"),
        ("RETRY_MAX_BACKOFF", "400d"),
        ("SMS_BACKEND", "pigeon"),
        ("ESCALATION_NUMBER", "12"),
        ("WORKER_POLL_SECONDS", "-1"),
        ("CALL_TIMEOUT_SECONDS", "lots"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(
    variable: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load()
    message = str(caught.value)
    assert message.startswith(f"{variable}: ")
    assert "\n" not in message


def test_twilio_backend_without_credentials_is_refused() -> None:
    with pytest.raises(ConfigError, match="^SMS_BACKEND: "):
        load(sms_backend="twilio")


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ({"twilio_account_sid": "AC123"}, "TWILIO_AUTH_TOKEN"),
        ({"twilio_auth_token": "a-real-auth-token"}, "TWILIO_ACCOUNT_SID"),
    ],
)
def test_half_set_credentials_stop_start_up_naming_the_missing_one(
    given: dict[str, str], missing: str
) -> None:
    with pytest.raises(ConfigError, match=f"^{missing}: not set"):
        load(**given)


def test_a_console_backend_may_check_signatures_with_a_real_token_alone() -> None:
    settings = load(sms_backend="console", twilio_auth_token="a-real-auth-token")
    assert not settings.demo_mode and not settings.sends_through_twilio


def test_the_public_demo_token_is_refused_as_a_real_token() -> None:
    with pytest.raises(ConfigError, match="^TWILIO_AUTH_TOKEN: is the public demo token"):
        load(twilio_account_sid="AC123", twilio_auth_token=DEMO_AUTH_TOKEN)


def test_settings_show_the_database_password_masked() -> None:
    settings = load(database_url="postgresql://callpledge:s3cret-pw@db:5432/callpledge")
    assert "s3cret-pw" not in repr(settings)
    assert "callpledge:***@db:5432" in repr(settings)
    assert settings.database_url == "postgresql://callpledge:s3cret-pw@db:5432/callpledge"


def test_a_bad_database_url_is_not_repeated_in_the_message() -> None:
    with pytest.raises(ConfigError) as caught:
        load(database_url="postgresql://callpledge:s3cret-pw@db:port/callpledge")
    assert "s3cret-pw" not in str(caught.value)


@pytest.mark.parametrize(
    "url", ["http://[::1]:8000", "https://callpledge.example.com/base", "http://localhost:8000"]
)
def test_base_urls_with_a_host_are_accepted(url: str) -> None:
    assert load(public_base_url=url).public_base_url == url


def test_durations_up_to_a_year_are_accepted() -> None:
    settings = load(reminder_schedule="2m,365d", retry_max_backoff="365d")
    assert settings.reminder_schedule[-1] == settings.retry_max_backoff == timedelta(days=365)


def test_credentials_switch_auto_to_twilio() -> None:
    settings = load(twilio_account_sid="AC123", twilio_auth_token="secret")
    assert settings.sends_through_twilio and not settings.demo_mode
    assert "secret" not in repr(settings)


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.2"])
def test_demo_mode_serves_on_loopback(host: str) -> None:
    load().check_bind(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "example.com"])
def test_demo_mode_refuses_any_other_address(host: str) -> None:
    with pytest.raises(ConfigError, match="^TWILIO_AUTH_TOKEN: "):
        load().check_bind(host)


def test_with_a_real_token_any_address_is_fine() -> None:
    load(twilio_account_sid="AC123", twilio_auth_token="secret").check_bind("0.0.0.0")


def test_the_example_env_file_documents_every_variable_at_its_default(
    tmp_path, monkeypatch: pytest.MonkeyPatch, project_root
) -> None:
    example = (project_root / ".env.example").read_text()
    names = {
        line.split("=", 1)[0]
        for line in example.splitlines()
        if "=" in line and not line.startswith("#")
    }
    assert names == {name.upper() for name in Settings.model_fields}
    (tmp_path / ".env").write_text(example)
    monkeypatch.chdir(tmp_path)
    assert load_settings() == load()
