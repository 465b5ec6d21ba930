"""When nudges fall due: the REMINDER_SCHEDULE gaps, the cap, and what calls and attempts do."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.config import Settings


@dataclass(frozen=True)
class NudgePolicy:
    """The gaps between nudges (the last repeats), the most nudges, and when to escalate."""

    gaps: tuple[timedelta, ...]
    max_nudges: int
    escalate_after: int

    @classmethod
    def of(cls, settings: Settings) -> "NudgePolicy":
        return cls(
            tuple(settings.reminder_schedule), settings.reminder_max, settings.escalate_after
        )

    def gap(self, nudges_sent: int) -> timedelta:
        """The wait before the next nudge once `nudges_sent` have gone out."""
        return self.gaps[min(nudges_sent, len(self.gaps) - 1)]

    def first_due(self, missed_at: datetime) -> datetime:
        """A new obligation's first nudge: one first gap after the missed call."""
        return missed_at + self.gaps[0]

    def after_repeat_call(self, current: datetime | None, called_at: datetime) -> datetime | None:
        """A repeat call brings the next nudge forward to at most one first gap after it."""
        if current is None:
            return None  # the cap is reached: a repeat call does not lift it
        return min(current, called_at + self.gaps[0])

    def after_nudge(self, sent_at: datetime, nudges_sent: int) -> datetime | None:
        """The next nudge after the `nudges_sent`-th went out, or None at the cap."""
        if nudges_sent >= self.max_nudges:
            return None
        return sent_at + self.gap(nudges_sent)

    def after_attempt(
        self, attempted_at: datetime, nudges_sent: int, current: datetime | None
    ) -> datetime | None:
        """An unanswered callback moves the next nudge to the attempt plus the current gap."""
        if current is None:
            return None
        return attempted_at + self.gap(nudges_sent)

    def should_escalate(self, nudges_sent: int) -> bool:
        return nudges_sent >= self.escalate_after
