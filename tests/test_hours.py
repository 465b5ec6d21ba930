"""Working hours in the recruiter's own time zone, across weekends and DST changes."""

from datetime import UTC, datetime

import pytest

from app.hours import WorkingHours, parse_working_hours

OFFICE = {day: [["09:00", "17:30"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_null_means_always() -> None:
    hours = WorkingHours.of("Europe/London", None)
    assert hours.next_open(utc(2026, 1, 4, 3, 0)) == utc(2026, 1, 4, 3, 0)


def test_inside_a_range_is_now() -> None:
    hours = WorkingHours.of("Europe/London", OFFICE)
    assert hours.is_open(utc(2026, 1, 5, 12, 0))


def test_friday_evening_waits_for_monday_morning() -> None:
    hours = WorkingHours.of("America/New_York", OFFICE)
    # Friday 9 Jan 2026, 18:00 in New York (23:00 UTC) → Monday 12 Jan 09:00 EST (14:00 UTC).
    assert hours.next_open(utc(2026, 1, 9, 23, 0)) == utc(2026, 1, 12, 14, 0)


def test_the_end_of_a_range_is_closed() -> None:
    hours = WorkingHours.of("UTC", OFFICE)
    assert hours.next_open(utc(2026, 1, 5, 17, 30)) == utc(2026, 1, 6, 9, 0)


def test_before_the_first_range_waits_for_it() -> None:
    hours = WorkingHours.of("Asia/Tokyo", {"mon": [["09:00", "12:00"], ["13:00", "18:00"]]})
    # Monday 12:30 in Tokyo (03:30 UTC) → 13:00 Tokyo (04:00 UTC).
    assert hours.next_open(utc(2026, 1, 5, 3, 30)) == utc(2026, 1, 5, 4, 0)


def test_spring_forward_keeps_local_nine_oclock() -> None:
    hours = WorkingHours.of(
        "Europe/London", {"sun": [["09:00", "17:00"]], "mon": [["09:00", "17:00"]]}
    )
    # Clocks go forward on Sunday 29 March 2026: 09:00 BST is 08:00 UTC.
    assert hours.next_open(utc(2026, 3, 29, 0, 30)) == utc(2026, 3, 29, 8, 0)


def test_fall_back_keeps_local_nine_oclock() -> None:
    hours = WorkingHours.of("America/Los_Angeles", OFFICE)
    # Clocks go back on Sunday 1 November 2026: Monday 09:00 PST is 17:00 UTC (was 16:00).
    assert hours.next_open(utc(2026, 10, 31, 20, 0)) == utc(2026, 11, 2, 17, 0)


def test_a_range_can_run_to_midnight() -> None:
    hours = WorkingHours.of("UTC", {"sat": [["20:00", "24:00"]]})
    assert hours.is_open(utc(2026, 1, 10, 23, 59))
    assert hours.next_open(utc(2026, 1, 11, 0, 0)) == utc(2026, 1, 17, 20, 0)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("9-5", "null or an object"),
        ({"monday": [["09:00", "17:00"]]}, "unknown days"),
        ({"mon": [["9:00", "17:00"]]}, "HH:MM"),
        ({"mon": [["17:00", "09:00"]]}, "ends before it starts"),
        ({"mon": [["09:00", "13:00"], ["12:00", "17:00"]]}, "overlap"),
        ({"mon": []}, "no ranges"),
        ({"mon": "09:00-17:00"}, "list of"),
    ],
)
def test_bad_working_hours_say_what_is_wrong(raw: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_working_hours(raw)


def test_good_working_hours_are_kept_in_order() -> None:
    assert parse_working_hours({"tue": [["13:00", "17:00"], ["09:00", "12:00"]]}) == {
        "tue": [["09:00", "12:00"], ["13:00", "17:00"]]
    }
