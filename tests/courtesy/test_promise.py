"""The promise's arithmetic (working time inside the recruiter's hours), the words it is
written in, the text-back template, the nudge's "Due by", and the settings that shape them."""

from datetime import UTC, datetime, timedelta

import pytest

from app.config import ConfigError, Settings, load_settings
from app.courtesy.texts import (
    TemplateError,
    TextFacts,
    check_template,
    due_words,
    promise_words,
    text_back,
)
from app.hours import WorkingHours
from app.reminders.policy import NudgeFacts, nudge_text
from app.sms.segments import fits

FOUR_HOURS = timedelta(hours=4)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of January 2026 in UTC (the 5th is a Monday; London is on UTC then)."""
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)


def office(start: str = "09:00", end: str = "17:30", zone: str = "Europe/London") -> WorkingHours:
    return WorkingHours.of(zone, {day: [[start, end]] for day in WEEKDAYS})


def test_the_issues_example_is_promised_by_noon_the_next_working_day() -> None:
    # 16:30 with 09:00-17:30: one hour today, three tomorrow from 09:00, so 12:00. (The
    # issue's "12:30" would need hours ending at 17:00.)
    assert office().add_working(at(5, 16, 30), FOUR_HOURS) == at(6, 12, 0)
    assert office(end="17:00").add_working(at(5, 16, 30), FOUR_HOURS) == at(6, 12, 30)


def test_a_friday_afternoon_call_is_promised_on_monday() -> None:
    assert office().add_working(at(9, 16, 30), FOUR_HOURS) == at(12, 12, 0)


def test_a_call_on_a_day_off_counts_from_the_next_working_period() -> None:
    assert office().add_working(at(10, 11, 0), FOUR_HOURS) == at(12, 13, 0)


def test_a_lunch_break_is_not_working_time() -> None:
    split = WorkingHours.of("UTC", {"mon": [["09:00", "12:00"], ["13:00", "17:00"]]})
    assert split.add_working(at(5, 11, 0), FOUR_HOURS) == at(5, 16, 0)


def test_a_promise_longer_than_a_working_day_spans_days_and_time_zones() -> None:
    # 15:00 in New York: 2.5 h on Monday, 7.5 h from 09:00 Tuesday, so 16:30 there (21:30 UTC)
    new_york = office(zone="America/New_York")
    assert new_york.add_working(at(5, 20, 0), timedelta(hours=10)) == at(6, 21, 30)


def test_without_working_hours_the_promise_is_plain_time() -> None:
    assert WorkingHours.of("UTC", None).add_working(at(5, 23, 0), FOUR_HOURS) == at(6, 3, 0)


@pytest.mark.parametrize(
    ("promised", "read", "words"),
    [
        (at(5, 14, 0), at(5, 10, 0), "14:00 today"),
        (at(6, 12, 0), at(5, 16, 30), "12:00 tomorrow"),
        (at(9, 12, 0), at(5, 16, 30), "12:00 on Friday"),
        (at(14, 9, 30), at(5, 16, 30), "09:30 on 14 Jan"),
    ],
)
def test_the_promise_in_the_callers_words(promised: datetime, read: datetime, words: str) -> None:
    assert promise_words(promised, read, "Europe/London") == words


def test_the_promise_is_read_in_the_recruiters_zone() -> None:
    assert promise_words(at(6, 1, 0), at(5, 22, 0), "America/New_York") == "20:00 today"


def test_a_nudge_says_when_it_is_due_and_still_fits_two_segments() -> None:
    facts = NudgeFacts(
        obligation_id=1234567,
        caller="+447700900123",
        caller_name="Samantha Longname-Smith",
        opened_at=at(5, 10),
        last_missed_at=at(5, 11),
        missed_calls=3,
        transcript="Hello " * 80,
        has_voicemail=True,
        due_by=due_words(at(5, 12, 30), at(5, 11, 30), "UTC"),
    )
    text = nudge_text(facts, at(5, 11, 30))

    assert "Due by 12:30." in text.splitlines()[0]
    assert fits(text) and text.endswith("CALL 1234567")


def test_an_overdue_nudge_says_since_when() -> None:
    assert due_words(at(5, 9), at(5, 11), "UTC") == "Overdue since 09:00"


def test_a_long_template_is_cut_to_two_segments() -> None:
    facts = TextFacts(caller_name=None, recruiter="Alice", team=None, promise="12:00 today")
    assert fits(text_back(facts, "{recruiter} " * 100))


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("Hi {first_name}", "unknown field {first_name}"),
        ("Call by {promise:>10}", "{promise} takes no format"),
        ("Hi {caller_name", "cannot be read"),
        ("{recruiter.__class__}", "unknown field {recruiter.__class__}"),
    ],
)
def test_a_template_the_text_cannot_be_written_from_is_refused(template: str, problem: str) -> None:
    with pytest.raises(TemplateError, match=problem.replace("{", r"\{").replace("}", r"\}")):
        check_template(template)


def test_literal_braces_are_allowed_in_a_template() -> None:
    assert check_template("{{not a field}} {promise}") == "{{not a field}} {promise}"


@pytest.mark.parametrize("value", ["0s", "31d", "soon"])
def test_a_return_within_of_zero_or_over_30_days_is_refused_naming_it(value: str) -> None:
    with pytest.raises(ConfigError, match="^RETURN_WITHIN: "):
        load_settings(_env_file=None, return_within=value)


@pytest.mark.parametrize("value", ["20:00-08:00", "8-20", "08:00"])
def test_bad_caller_hours_are_refused_naming_them(value: str) -> None:
    with pytest.raises(ConfigError, match="^CALLER_TEXT_HOURS: "):
        load_settings(_env_file=None, caller_text_hours=value)


def test_text_backs_default_to_on_in_demo_mode_and_off_with_credentials() -> None:
    demo = Settings(_env_file=None)  # type: ignore[call-arg]
    real = Settings(_env_file=None, twilio_account_sid="AC1", twilio_auth_token="x")  # type: ignore[call-arg]
    assert demo.caller_text_on and not real.caller_text_on
    forced = Settings(
        _env_file=None, twilio_account_sid="AC1", twilio_auth_token="x", caller_text="on"
    )  # type: ignore[call-arg]
    assert forced.caller_text_on
    assert Settings(_env_file=None).return_within == timedelta(hours=4)  # type: ignore[call-arg]
