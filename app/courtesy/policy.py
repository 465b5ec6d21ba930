"""What the courtesy settings say, built once: text-backs on or off, the promise, caller hours."""

from dataclasses import dataclass
from datetime import timedelta

from app.config import Settings
from app.config_checks import caller_hours_ranges
from app.hours import WEEKDAYS, WorkingHours

CALLER_TEXT = "caller_text"  # outbox purpose of the text-back
CALLER_CLOSE = "caller_close"  # outbox purpose of "Alice has picked up your message"
CALLER_PURPOSES = frozenset({CALLER_TEXT, CALLER_CLOSE})


@dataclass(frozen=True)
class CallerHours:
    """The caller-facing quiet hours: one daily range, read in the recruiter's time zone."""

    day: tuple[str, str]

    @classmethod
    def parse(cls, text: str) -> "CallerHours":
        start, end = caller_hours_ranges(text)[0]
        return cls((start, end))

    def in_zone(self, timezone: str) -> WorkingHours:
        """The hours as a recruiter's zone reads them, every day of the week."""
        return WorkingHours.of(timezone, {day: [list(self.day)] for day in WEEKDAYS})


@dataclass(frozen=True)
class Courtesy:
    """The courtesy settings a worker pass, a close or a claim needs."""

    enabled: bool
    return_within: timedelta
    hours: CallerHours
    close_text: bool
    team_name: str | None

    @classmethod
    def of(cls, settings: Settings) -> "Courtesy":
        return cls(
            enabled=settings.caller_text_on,
            return_within=settings.return_within,
            hours=CallerHours.parse(settings.caller_text_hours),
            close_text=settings.caller_close_text,
            team_name=settings.team_name,
        )
