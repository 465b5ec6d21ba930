"""Properties of the duration parser (settings, the snooze API, SMS commands all use it)."""

from datetime import timedelta

from hypothesis import example, given, settings
from hypothesis import strategies as st

from app.durations import LONGEST, format_duration, parse_duration

UNITS = "smhd"
parts = st.tuples(st.integers(0, 10**8), st.sampled_from(UNITS + UNITS.upper() + "xy"))
duration_like = st.builds(
    lambda items, spaced: (" " if spaced else "").join(f"{n}{u}" for n, u in items),
    st.lists(parts, max_size=300),
    st.booleans(),
)
whole_seconds = st.integers(1, int(LONGEST.total_seconds())).map(lambda s: timedelta(seconds=s))


@settings(max_examples=500)
@given(whole_seconds)
@example(timedelta(seconds=1))
@example(timedelta(minutes=90))
@example(LONGEST)
def test_parse_reads_back_exactly_what_format_writes(duration: timedelta) -> None:
    assert parse_duration(format_duration(duration)) == duration


@settings(max_examples=500)
@given(st.one_of(st.text(max_size=40), duration_like))
@example("9999999d" * 200)  # once an OverflowError, past what timedelta holds
@example("0s")
@example("1h 30m")
def test_parse_answers_a_positive_duration_or_value_error_and_nothing_else(text: str) -> None:
    try:
        duration = parse_duration(text)
    except ValueError:
        return
    assert timedelta(0) < duration <= LONGEST
    assert parse_duration(format_duration(duration)) == duration
