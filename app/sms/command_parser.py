"""The SMS commands a recruiter texts to a line, read forgivingly. Pure: text in, Command out.

`done 12`, `DONE #12`, ` Done12. `, `snooze 12`, `SNOOZE #12 1 hour 30 min`, `call 12`,
`list`, `help`, `?`: case, spacing and a `#` before the id or the word do not matter.
Whatever the text, `parse` returns a Command; one it cannot read is UNKNOWN, and its
`problem` says what to write instead.
"""

import re
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from app.obligations.queries import LONGEST_SNOOZE

DEFAULT_SNOOZE = timedelta(hours=1)
# Ids are BIGINT: a longer run of digits is no obligation of anybody's.
LARGEST_ID = 2**63 - 1
_ECHO_MOST = 24


class Verb(StrEnum):
    DONE = "done"
    SNOOZE = "snooze"
    CALL = "call"
    LIST = "list"
    HELP = "help"
    START = "start"  # Twilio's opt-in words: SMS from the line reach the recruiter again
    STOP = "stop"  # Twilio's opt-out words: Twilio refuses SMS from the line from now on
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Command:
    """What a text asks for; `problem` says what was wrong with a text that asks for nothing."""

    verb: Verb
    obligation_id: int | None = None
    snooze: timedelta | None = None
    problem: str | None = None


_VERBS = {
    "DONE": Verb.DONE,
    "SNOOZE": Verb.SNOOZE,
    "CALL": Verb.CALL,
    "LIST": Verb.LIST,
    "HELP": Verb.HELP,
    "INFO": Verb.HELP,
    "?": Verb.HELP,
}
# Twilio acts on these only when they are the whole message; so do we.
_OPT_IN = frozenset({"START", "UNSTOP", "YES"})
_OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT"})
_UNITS = {
    **dict.fromkeys(("S", "SEC", "SECS", "SECOND", "SECONDS"), 1),
    **dict.fromkeys(("M", "MIN", "MINS", "MINUTE", "MINUTES"), 60),
    **dict.fromkeys(("H", "HR", "HRS", "HOUR", "HOURS"), 3600),
    **dict.fromkeys(("D", "DAY", "DAYS"), 86400),
    **dict.fromkeys(("W", "WK", "WEEK", "WEEKS"), 604800),
}
_SHAPE = re.compile(r"#? ?([A-Z]+|\?) ?(.*)")
# An id, then perhaps words without digits, ignored ("done 12 thanks").
_ID = re.compile(r"#? ?([0-9]+)(?: [^0-9]*)?")
_ID_THEN_REST = re.compile(r"#? ?([0-9]+) ?(.*)")
_DURATION = re.compile(r"(?:[0-9]{1,4} ?[A-Z]+ ?)+")
_DURATION_PART = re.compile(r"([0-9]{1,4}) ?([A-Z]+)")
# Not echoed in a reply: control characters, and the bidi embeddings, overrides and isolates
# that would turn the rest of the reply around on the recruiter's screen.
_UNSHOWABLE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def parse(text: str) -> Command:
    """Read one SMS; never raises."""
    cleaned = _clean(text)
    if cleaned in _OPT_IN:
        return Command(Verb.START)
    if cleaned in _OPT_OUT:
        return Command(Verb.STOP)
    shape = _SHAPE.fullmatch(cleaned)
    verb = _VERBS.get(shape[1]) if shape else None
    if shape is None or verb is None:
        return _unknown(text)
    rest = shape[2]
    if verb is Verb.DONE:
        return _done(rest)
    if verb is Verb.CALL:
        return _call(rest)
    if verb is Verb.SNOOZE:
        return _snooze(rest)
    return Command(verb)  # LIST and HELP ignore what follows ("list please")


def _clean(text: str) -> str:
    """Upper case, single spaces, no trailing punctuation (`Done 12.`)."""
    return " ".join(text.split()).upper().strip(" .,;:!'\"")


def _unknown(text: str) -> Command:
    shown = " ".join(_UNSHOWABLE.sub("", text).split())
    if not shown:
        return Command(Verb.UNKNOWN, problem="That message was empty.")
    if len(shown) > _ECHO_MOST:
        shown = shown[: _ECHO_MOST - 3] + "..."
    return Command(Verb.UNKNOWN, problem=f'Sorry, "{shown}" is not a command.')


def _obligation_id(digits: str) -> int:
    # An id no obligation can have is still read, and refused like any id not theirs.
    return int(digits) if len(digits) <= 19 else LARGEST_ID + 1


def _done(rest: str) -> Command:
    if not rest:
        return Command(Verb.DONE)
    match = _ID.fullmatch(rest)
    if match is None:
        return Command(Verb.UNKNOWN, problem="Write DONE and the number, e.g. DONE 12.")
    return Command(Verb.DONE, obligation_id=_obligation_id(match[1]))


def _call(rest: str) -> Command:
    match = _ID.fullmatch(rest)
    if match is None:
        return Command(Verb.UNKNOWN, problem="Write CALL and the number, e.g. CALL 12.")
    return Command(Verb.CALL, obligation_id=_obligation_id(match[1]))


def _snooze(rest: str) -> Command:
    match = _ID_THEN_REST.fullmatch(rest)
    if match is None:
        return Command(Verb.UNKNOWN, problem="Write SNOOZE and the number, e.g. SNOOZE 12 2h.")
    obligation_id = _obligation_id(match[1])
    wanted = match[2].removeprefix("FOR ")
    if not wanted:
        return Command(Verb.SNOOZE, obligation_id=obligation_id, snooze=DEFAULT_SNOOZE)
    seconds = _seconds(wanted)
    if seconds is None or seconds <= 0:
        example = obligation_id if obligation_id <= LARGEST_ID else 12
        problem = f"Write how long, e.g. SNOOZE {example} 30m, 2h or 1d."
        return Command(Verb.UNKNOWN, problem=problem)
    if seconds > LONGEST_SNOOZE.total_seconds():
        return Command(Verb.UNKNOWN, problem=f"Snooze for {LONGEST_SNOOZE.days} days at most.")
    return Command(Verb.SNOOZE, obligation_id=obligation_id, snooze=timedelta(seconds=seconds))


def _seconds(text: str) -> int | None:
    """`2H`, `1 HOUR 30 MIN`, `90M`: the seconds they add up to, or None if unreadable."""
    if not _DURATION.fullmatch(text):
        return None
    total = 0
    for count, unit in _DURATION_PART.findall(text):
        if unit not in _UNITS:
            return None
        total += int(count) * _UNITS[unit]
    return total
