"""Working hours: weekly local-time ranges in a recruiter's own time zone."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d|24:00")

Range = tuple[time, time | None]  # an end of None means midnight at the end of the day


def zone(name: str) -> ZoneInfo:
    """The IANA time zone `name`, or ValueError saying what is expected."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{name!r} is not an IANA time zone such as Europe/London") from exc


def parse_working_hours(raw: Any) -> dict[str, list[list[str]]] | None:
    """Check the contract's format (`{"mon": [["09:00", "17:30"]], ...}`) and return it tidy."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ValueError(
            'working_hours must be null or an object such as {"mon": [["09:00", "17:30"]]}'
        )
    unknown = sorted(set(raw) - set(WEEKDAYS))
    if unknown:
        raise ValueError(f"working_hours has unknown days {unknown}; use {', '.join(WEEKDAYS)}")
    tidy: dict[str, list[list[str]]] = {}
    for day in WEEKDAYS:
        if day in raw:
            tidy[day] = _day_ranges(day, raw[day])
    if not any(tidy.values()):
        raise ValueError("working_hours has no ranges at all; use null for always")
    return tidy


def _day_ranges(day: str, ranges: Any) -> list[list[str]]:
    if not isinstance(ranges, list):
        raise ValueError(f'working_hours.{day} must be a list of ["HH:MM", "HH:MM"] ranges')
    tidy = []
    for pair in ranges:
        if (
            not isinstance(pair, list | tuple)
            or len(pair) != 2
            or not all(isinstance(v, str) and _CLOCK.fullmatch(v) for v in pair)
        ):
            raise ValueError(f'working_hours.{day}: {pair!r} is not a ["HH:MM", "HH:MM"] range')
        if pair[0] == "24:00" or (pair[1] != "24:00" and pair[1] <= pair[0]):
            raise ValueError(f"working_hours.{day}: {pair[0]}-{pair[1]} ends before it starts")
        tidy.append([pair[0], pair[1]])
    tidy.sort()
    for (_, end), (start, _) in zip(tidy, tidy[1:], strict=False):
        if start < end or end == "24:00":
            raise ValueError(f"working_hours.{day}: ranges overlap")
    return tidy


@dataclass(frozen=True)
class WorkingHours:
    """When a recruiter may be nudged; `ranges` None means at any time."""

    tz: ZoneInfo
    ranges: dict[int, list[Range]] | None

    @classmethod
    def of(cls, timezone: str, working_hours: dict[str, list[list[str]]] | None) -> "WorkingHours":
        if working_hours is None:
            return cls(zone(timezone), None)
        ranges = {
            WEEKDAYS.index(day): [
                (_time(start), None if end == "24:00" else _time(end)) for start, end in pairs
            ]
            for day, pairs in working_hours.items()
        }
        return cls(zone(timezone), ranges)

    def next_open(self, moment: datetime) -> datetime:
        """`moment` if it falls in working hours, else the start of the next working period."""
        if self.ranges is None:
            return moment
        for opens, closes in self._periods(moment, range(-1, 9)):
            if moment < closes:
                return max(moment, opens)
        raise ValueError("working hours have no ranges")  # parse_working_hours refuses this

    def is_open(self, moment: datetime) -> bool:
        return self.next_open(moment) == moment

    def add_working(self, start: datetime, duration: timedelta) -> datetime:
        """The moment `duration` of working time after `start` (time outside hours is skipped)."""
        moment, left = start, duration
        while True:
            moment = self.next_open(moment)
            closes = self._closes(moment)
            if closes is None or moment + left <= closes:
                return moment + left
            if closes <= moment:  # a range inside an hour a DST change skips: no time at all
                moment += timedelta(minutes=1)
                continue
            left -= closes - moment
            moment = closes

    def _closes(self, moment: datetime) -> datetime | None:
        """The end of the working period `moment` is in (None: hours are always)."""
        if self.ranges is None:
            return None
        for opens, closes in self._periods(moment, range(-1, 2)):
            if opens <= moment < closes:
                return closes
        return moment

    def _periods(self, moment: datetime, days: range) -> Iterator[tuple[datetime, datetime]]:
        """The working periods (opens, closes) of the days around `moment`'s local day."""
        local_day = moment.astimezone(self.tz).date()
        for offset in days:
            day = local_day + timedelta(days=offset)
            for start, end in (self.ranges or {}).get(day.weekday(), []):
                yield self._at(day, start), self._end(day, end)

    def _at(self, day: date, clock: time) -> datetime:
        # A local time skipped by a DST change (02:30 on a spring-forward day) reads as the
        # instant an hour later in wall time, which is when that clock time is first passed.
        return datetime.combine(day, clock, tzinfo=self.tz).astimezone(UTC)

    def _end(self, day: date, clock: time | None) -> datetime:
        if clock is None:
            return self._at(day + timedelta(days=1), time(0))
        return self._at(day, clock)


def _time(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))
