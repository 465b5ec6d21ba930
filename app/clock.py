"""Clocks: the real one, and ones tests set by hand or through a file."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

# A clock's `now`, as the worker's passes take it.
Now = Callable[[], datetime]


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class ManualClock:
    """A clock that moves only when told to."""

    current: datetime = field(default_factory=lambda: datetime(2026, 1, 5, 10, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta

    def set(self, moment: datetime) -> None:
        self.current = moment.astimezone(UTC)


@dataclass
class FileClock:
    """Reads the time from a file holding an ISO timestamp, so another process can set it."""

    path: Path

    def now(self) -> datetime:
        return datetime.fromisoformat(self.path.read_text().strip()).astimezone(UTC)

    def set(self, moment: datetime) -> None:
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(moment.astimezone(UTC).isoformat())
        temporary.replace(self.path)

    def advance(self, delta: timedelta) -> None:
        self.set(self.now() + delta)


def clock_from_settings(clock_file: Path | None) -> Clock:
    """The system clock, unless a test named a clock file."""
    return FileClock(clock_file) if clock_file else SystemClock()
