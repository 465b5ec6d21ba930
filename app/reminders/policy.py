"""Nudges: when they fall due (gaps, cap, calls, attempts, escalation) and what they say."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.config import Settings
from app.durations import elapsed
from app.phones import for_people
from app.sms.segments import fits, gsm_friendly

_NAME_MOST = 30  # CallerName (CNAM) is at most 15; a recruiter's name can be long


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

    def after_nudge(
        self, sent_at: datetime, nudges_sent: int, *, escalation_pending: bool = False
    ) -> datetime | None:
        """The next nudge after the `nudges_sent`-th went out, or None at the cap.

        At the cap an escalation still owed is looked at one more gap later: it goes out
        only once the last nudge, too, has gone unanswered.
        """
        if nudges_sent < self.max_nudges or (
            escalation_pending and self.should_escalate(nudges_sent)
        ):
            return sent_at + self.gap(nudges_sent)
        return None

    def after_attempt(
        self, attempted_at: datetime, nudges_sent: int, current: datetime | None
    ) -> datetime | None:
        """An unanswered callback moves the next nudge to the attempt plus the current gap."""
        if current is None:
            return None
        return attempted_at + self.gap(nudges_sent)

    def should_escalate(self, nudges_sent: int) -> bool:
        """Whether `nudges_sent` unanswered nudges call for the escalation SMS."""
        return nudges_sent >= self.escalate_after


@dataclass(frozen=True)
class NudgeFacts:
    """What a reminder says about one obligation."""

    obligation_id: int
    caller: str | None
    caller_name: str | None
    opened_at: datetime
    last_missed_at: datetime
    missed_calls: int
    transcript: str | None = None
    has_voicemail: bool = False
    due_by: str | None = None  # the promise, e.g. "Due by 12:30" (app/courtesy)


def nudge_text(facts: NudgeFacts, now: datetime) -> str:
    """The nudge for one obligation, in two segments at most (the transcript is cut first)."""
    n = facts.obligation_id

    def render(transcript: str, name: str) -> str:
        lines = [f"#{n} Call back {_who(facts.caller, name)}: {_calls(facts, now)}."]
        if facts.due_by:
            lines[0] += f" {facts.due_by}."
        if transcript:
            lines.append(f'Voicemail: "{transcript}"')
        elif facts.has_voicemail:
            lines.append("Voicemail left.")
        lines.append(f"Reply DONE {n}, SNOOZE {n} 2h or CALL {n}")
        return "\n".join(lines)

    return _fit(render, _clean(facts.transcript), _name(facts.caller_name))


def digest_text(items: Sequence[NudgeFacts], now: datetime) -> str:
    """One SMS for several due nudges: as many as two segments hold, then how many more."""
    head = f"{len(items)} callers to call back:"
    tail = f"Reply DONE, SNOOZE or CALL with the id, e.g. CALL {items[0].obligation_id}"

    def render(lines: list[str]) -> str:
        rest = len(items) - len(lines)
        more = [f"+{rest} more: reply LIST"] if rest else []
        return "\n".join([head, *lines, *more, tail])

    lines: list[str] = []
    for facts in items:
        line = f"#{facts.obligation_id} {_who(facts.caller, _name(facts.caller_name, 20))}, "
        line += f"{_count(facts.missed_calls)}, last {_ago(facts.last_missed_at, now)}"
        if not fits(render([*lines, line])):
            break
        lines.append(line)
    return render(lines)


def withheld_voicemail_text(facts: NudgeFacts, now: datetime) -> str:
    """The one SMS about a withheld caller's voicemail: there is nobody to call back."""
    n = facts.obligation_id

    def render(transcript: str) -> str:
        heard = f': "{transcript}"' if transcript else " (no transcript)."
        return (
            f"#{n} A withheld number left a voicemail {_ago(facts.last_missed_at, now)}{heard}"
            f"\nThere is no number to call back. Reply DONE {n} when handled."
        )

    return _fit(render, _clean(facts.transcript))


def escalation_text(facts: NudgeFacts, *, recruiter: str, nudges: int, now: datetime) -> str:
    """The escalation SMS: a recruiter left an obligation unanswered through `nudges` nudges."""

    def render(name: str, recruiter_name: str) -> str:
        return (
            f"#{facts.obligation_id} Escalation: {recruiter_name or 'a recruiter'} has not "
            f"called back {_who(facts.caller, name)} after {nudges} reminders "
            f"({_calls(facts, now)})."
        )

    return _fit(render, _name(facts.caller_name), _name(recruiter))


def _who(caller: str | None, name: str) -> str:
    number = for_people(caller) if caller else "a withheld number"
    return f"{name} {number}" if name else number


def _calls(facts: NudgeFacts, now: datetime) -> str:
    last = _ago(facts.last_missed_at, now)
    if facts.missed_calls == 1:
        return f"missed call {last}"
    return f"{facts.missed_calls} missed calls, first {_ago(facts.opened_at, now)}, last {last}"


def _count(calls: int) -> str:
    return "1 call" if calls == 1 else f"{calls} calls"


def _ago(moment: datetime, now: datetime) -> str:
    age = elapsed(moment, now)
    return f"{age} ago" if age else "just now"


def _clean(text: str | None) -> str:
    """One line of plain text, kept to GSM-7 where a typographic character is all that stops it."""
    return " ".join(gsm_friendly(text or "").split())


def _name(text: str | None, most: int = _NAME_MOST) -> str:
    return _cut(_clean(text), most)


def _cut(text: str, length: int) -> str:
    """`text` cut to about `length` characters at a word boundary, marked with `...`."""
    if length >= len(text):
        return text
    cut = text[:length]
    space = cut.rfind(" ")
    if space > length - 12:
        cut = cut[:space]
    cut = cut.rstrip(" ,.;:")
    return f"{cut}..." if cut else ""


def _fit(render: Callable[..., str], *parts: str) -> str:
    """`render(*parts)`, cutting the first part, then the next, until two segments hold it."""
    kept = list(parts)
    for index, part in enumerate(parts):
        if fits(render(*kept)):
            break
        low, high = 0, len(part)
        while low < high:  # the longest cut of this part that still fits
            middle = (low + high + 1) // 2
            kept[index] = _cut(part, middle)
            if fits(render(*kept)):
                low = middle
            else:
                high = middle - 1
        kept[index] = _cut(part, low)
    return render(*kept)
