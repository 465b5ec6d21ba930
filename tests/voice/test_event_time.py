"""Twilio's event time, bounded to an hour before arrival; arrival when it sends none."""

from datetime import UTC, datetime, timedelta

import pytest

from app.voice.event_time import WINDOW, reported_at

ARRIVAL = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def test_twilios_timestamp_is_the_event_time() -> None:
    assert reported_at("Mon, 05 Jan 2026 09:55:30 +0000", arrival=ARRIVAL) == ARRIVAL - timedelta(
        minutes=4, seconds=30
    )


def test_an_offset_is_read_as_written() -> None:
    assert reported_at("Mon, 05 Jan 2026 10:59:00 +0100", arrival=ARRIVAL) == ARRIVAL - timedelta(
        minutes=1
    )


def test_a_time_from_the_future_is_arrival() -> None:
    assert reported_at("Mon, 05 Jan 2026 10:30:00 +0000", arrival=ARRIVAL) == ARRIVAL


def test_a_time_far_in_the_past_is_held_to_the_window() -> None:
    assert reported_at("Thu, 01 Jan 1970 00:00:00 +0000", arrival=ARRIVAL) == ARRIVAL - WINDOW


@pytest.mark.parametrize("raw", [None, "", "yesterday", "Mon, 99 Foo 2026 25:61:00 +0000", "1"])
def test_no_readable_time_is_arrival(raw: str | None) -> None:
    assert reported_at(raw, arrival=ARRIVAL) == ARRIVAL


def test_a_time_without_a_zone_is_utc() -> None:
    moment = reported_at("Mon, 05 Jan 2026 09:59:00 -0000", arrival=ARRIVAL)
    assert moment == ARRIVAL - timedelta(minutes=1) and moment.tzinfo is not None
