"""Human durations such as `90s`, `15m`, `2h`, `1d` or `1h30m`."""

import re
from datetime import datetime, timedelta

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PART = re.compile(r"(\d{1,7})([smhd])")
_WHOLE = re.compile(r"(?:\d{1,7}[smhd])+")
# The most one unit part can say (9,999,999 days); longer sums would overflow timedelta.
LONGEST = timedelta(days=9_999_999)


def parse_duration(text: str) -> timedelta:
    """Read `30s`, `15m`, `2h`, `1d` (or a sum such as `1h30m`); raise ValueError otherwise."""
    cleaned = text.strip().lower().replace(" ", "")
    if not _WHOLE.fullmatch(cleaned):
        raise ValueError(f"{text!r} is not a duration like 30s, 15m, 2h or 1d")
    seconds = sum(int(n) * _UNITS[unit] for n, unit in _PART.findall(cleaned))
    if seconds <= 0:
        raise ValueError(f"{text!r} must be longer than zero")
    if seconds > LONGEST.total_seconds():
        raise ValueError(f"{text[:24]!r} is longer than {LONGEST.days} days")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """Write a duration back in the shortest exact form (`90m` → `1h30m`)."""
    seconds = int(value.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def elapsed(since: datetime, now: datetime) -> str | None:
    """The time from `since` to `now` in its largest whole unit (`3h`); None under a minute."""
    seconds = max(0, int((now - since).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return None
