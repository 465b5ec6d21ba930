"""`callpledge twilio setup`: the lines' webhooks and the softphones' TwiML App (fake Twilio)."""

from typing import Any

from app.config import Settings
from app.twilio.provision import APP_NAME, app_settings, number_settings
from tests.cli.conftest import Run
from tests.conftest import PUBLIC_BASE_URL
from tests.support.databases import TestDatabase
from tests.support.factories import make_recruiter
from tests.support.fake_twilio import FakeTwilio

RETRIES = "#rc=3&rp=ct,rt,5xx"
WANTED = {
    "voice_url": f"{PUBLIC_BASE_URL}/twilio/voice/incoming{RETRIES}",
    "voice_method": "POST",
    "voice_fallback_url": f"{PUBLIC_BASE_URL}/twilio/voice/fallback{RETRIES}",
    "voice_fallback_method": "POST",
    "status_callback": f"{PUBLIC_BASE_URL}/twilio/voice/status{RETRIES}",
    "status_callback_method": "POST",
    "sms_url": f"{PUBLIC_BASE_URL}/twilio/sms/incoming{RETRIES}",
    "sms_method": "POST",
}


def a_number(fake: FakeTwilio, line: str, **fields: Any) -> dict[str, Any]:
    """A number bought in the console, still on Twilio's demo URL."""
    bought = {
        "phone_number": line,
        "voice_url": "https://demo.twilio.com/welcome/voice/",
        "voice_method": "POST",
        "sms_url": "https://demo.twilio.com/welcome/sms/reply/",
        "voice_application_sid": None,
    }
    return fake.add("IncomingPhoneNumbers", **(bought | fields))


def numbers(fake: FakeTwilio) -> dict[str, dict[str, Any]]:
    return {n["phone_number"]: n for n in fake.all("IncomingPhoneNumbers")}


def test_setup_points_every_active_line_at_the_service_and_creates_the_app(
    callpledge: Run, db: TestDatabase, fake_twilio: FakeTwilio
) -> None:
    alice, bea = make_recruiter(db), make_recruiter(db)
    make_recruiter(db, active=False, line="+15017770999", mobile="+14157770999")
    for recruiter in (alice, bea):
        a_number(fake_twilio, recruiter.line)
    a_number(fake_twilio, "+15017770999")
    a_number(fake_twilio, "+15017770111", voice_application_sid="AP" + "1" * 32)

    result = callpledge("twilio", "setup")

    assert result.exit_code == 0, result.output
    held = numbers(fake_twilio)
    for recruiter in (alice, bea):
        assert {name: held[recruiter.line][name] for name in WANTED} == WANTED
        assert f"{recruiter.line} ({held[recruiter.line]['sid']}): updated" in result.output
    # Numbers of nobody active are left alone.
    assert held["+15017770999"]["voice_url"] == "https://demo.twilio.com/welcome/voice/"
    (app,) = fake_twilio.all("Applications")
    assert (app["friendly_name"], app["voice_url"], app["voice_method"]) == (
        APP_NAME,
        f"{PUBLIC_BASE_URL}/twilio/voice/outbound{RETRIES}",
        "POST",
    )
    assert f"created ({app['sid']})" in result.output


def test_a_second_run_finds_everything_set_and_a_new_address_updates_the_app(
    callpledge: Run, db: TestDatabase, fake_twilio: FakeTwilio
) -> None:
    alice = make_recruiter(db)
    a_number(fake_twilio, alice.line)
    assert callpledge("twilio", "setup").exit_code == 0
    writes = len([r for r in fake_twilio.requests if r.method == "POST"])

    again = callpledge("twilio", "setup")
    assert again.exit_code == 0, again.output
    assert "already set up" in again.output
    assert len([r for r in fake_twilio.requests if r.method == "POST"]) == writes

    moved = callpledge("twilio", "setup", env={"PUBLIC_BASE_URL": "https://new.example.com"})
    assert moved.exit_code == 0, moved.output
    (app,) = fake_twilio.all("Applications")
    assert app["voice_url"] == f"https://new.example.com/twilio/voice/outbound{RETRIES}"
    assert numbers(fake_twilio)[alice.line]["status_callback"] == (
        f"https://new.example.com/twilio/voice/status{RETRIES}"
    )
    assert f"{PUBLIC_BASE_URL}/twilio/voice/outbound{RETRIES}" in moved.output  # old → new


def test_an_application_on_the_number_is_removed_so_the_urls_take_effect(
    callpledge: Run, db: TestDatabase, fake_twilio: FakeTwilio
) -> None:
    alice = make_recruiter(db)
    a_number(fake_twilio, alice.line, voice_application_sid="AP" + "2" * 32)
    result = callpledge("twilio", "setup", "--line", alice.line)
    assert result.exit_code == 0, result.output
    assert numbers(fake_twilio)[alice.line]["voice_application_sid"] == ""
    assert "voice_application_sid" in result.output


def test_dry_run_shows_the_changes_and_changes_nothing(
    callpledge: Run, db: TestDatabase, fake_twilio: FakeTwilio
) -> None:
    alice = make_recruiter(db)
    a_number(fake_twilio, alice.line)

    result = callpledge("twilio", "setup", "--dry-run")

    assert result.exit_code == 0, result.output
    assert not [r for r in fake_twilio.requests if r.method == "POST"]
    assert not fake_twilio.all("Applications")
    assert numbers(fake_twilio)[alice.line]["voice_url"] == "https://demo.twilio.com/welcome/voice/"
    assert "would change" in result.output and "would be created" in result.output
    assert "https://demo.twilio.com/welcome/voice/" in result.output
    assert f"-> {PUBLIC_BASE_URL}/twilio/voice/incoming{RETRIES}" in result.output
    assert "Dry run: nothing was changed." in result.output


def test_numbers_missing_from_the_account_are_reported_and_fail_the_run(
    callpledge: Run, db: TestDatabase, fake_twilio: FakeTwilio
) -> None:
    alice, bea = make_recruiter(db), make_recruiter(db)
    a_number(fake_twilio, alice.line)

    result = callpledge("twilio", "setup")

    assert result.exit_code == 1
    assert numbers(fake_twilio)[alice.line]["voice_url"] == WANTED["voice_url"]
    assert f"{bea.line}: not found in this Twilio account" in result.output
    assert f"not in Twilio account {fake_twilio.account_sid}: {bea.line}" in result.stderr
    only = callpledge("twilio", "setup", "--line", "+15017770123")
    assert only.exit_code == 1 and "+15017770123" in only.stderr
    assert "note: +15017770123 is no active recruiter's line" in only.output


def test_a_number_that_only_contains_the_lines_digits_is_not_taken_for_it(
    callpledge: Run, db: TestDatabase, fake_twilio: FakeTwilio
) -> None:
    alice = make_recruiter(db)
    longer = "+44" + alice.line.removeprefix("+")
    a_number(fake_twilio, longer)

    result = callpledge("twilio", "setup")

    assert result.exit_code == 1
    assert numbers(fake_twilio)[longer]["voice_url"] == "https://demo.twilio.com/welcome/voice/"
    assert f"{alice.line}: not found in this Twilio account" in result.output


def test_demo_mode_is_refused(callpledge: Run, fake_twilio: FakeTwilio) -> None:
    result = callpledge(
        "twilio",
        "setup",
        env={"TWILIO_AUTH_TOKEN": "", "TWILIO_ACCOUNT_SID": "", "SMS_BACKEND": "auto"},
    )
    assert result.exit_code == 2
    assert "set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN" in result.stderr
    assert not fake_twilio.requests


def test_every_url_setup_configures_carries_the_connection_overrides(settings: Settings) -> None:
    configured = [*number_settings(settings).values(), *app_settings(settings).values()]
    urls = [value for value in configured if value.startswith("https://")]
    assert len(urls) == 5
    assert all(url.endswith(RETRIES) for url in urls)
