"""What the caller reads: the text-back (default or the recruiter's template), the promise
in the caller's words, and the close text. Pure functions."""

import string
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from app.sms.segments import fits, gsm_friendly

FIELDS = ("caller_name", "recruiter", "promise", "team")
TEMPLATE_MOST = 320
DEFAULT_TEMPLATE = (
    "Hi {caller_name}, this is {recruiter}{at_team}. Sorry I missed your call - "
    "I'll call you back by {promise}. Reply STOP to opt out."
)
_NAME_MOST = 20


class TemplateError(ValueError):
    """A template the text-back cannot be written from; the message names the problem."""


def check_template(template: str) -> str:
    """`template` if every `{field}` in it is known; TemplateError naming the first unknown."""
    if len(template) > TEMPLATE_MOST:
        raise TemplateError(f"is longer than {TEMPLATE_MOST} characters")
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise TemplateError(f"cannot be read ({exc}); write {{{{ for a literal brace") from None
    for _, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in FIELDS:
            known = ", ".join(f"{{{name}}}" for name in FIELDS)
            raise TemplateError(f"has an unknown field {{{field}}}; use {known}")
        if spec or conversion:
            raise TemplateError(f"{{{field}}} takes no format; write it bare")
    return template


@dataclass(frozen=True)
class TextFacts:
    """What a text-back says."""

    caller_name: str | None
    recruiter: str
    team: str | None
    promise: str


def text_back(facts: TextFacts, template: str | None) -> str:
    """The text-back from the recruiter's template (or the default), in two segments at most."""
    values = {
        "caller_name": _first_name(facts.caller_name) or "there",
        "recruiter": _first_name(facts.recruiter) or "your recruiter",
        "promise": facts.promise,
        "team": _clean(facts.team) or "our team",
        "at_team": f" at {_clean(facts.team)}" if facts.team else "",
    }
    text = gsm_friendly((template or DEFAULT_TEMPLATE).format(**values))
    while not fits(text) and len(text) > 1:
        text = text[: len(text) - 10].rstrip() + "..."
    return text


def close_text(recruiter: str) -> str:
    """The SMS to a caller whose obligation closed without a call."""
    return f"{_first_name(recruiter) or 'Your recruiter'} has picked up your message. Thank you."


def promise_words(promised_by: datetime, read_at: datetime, timezone: str) -> str:
    """The promise as the caller reads it at `read_at`: `12:30 today`, `12:30 tomorrow`,
    `12:30 on Wednesday`, or `12:30 on 14 Jan`, in the recruiter's zone."""
    zone = ZoneInfo(timezone)
    local, today = promised_by.astimezone(zone), read_at.astimezone(zone).date()
    clock = f"{local:%H:%M}"
    days = (local.date() - today).days
    if days <= 0:
        return f"{clock} today"
    if days == 1:
        return f"{clock} tomorrow"
    if days < 7:
        return f"{clock} on {local:%A}"
    return f"{clock} on {local.day} {local:%b}"


def due_words(promised_by: datetime, now: datetime, timezone: str) -> str:
    """The promise in a nudge: `Due by 12:30` today, else with the day; `Overdue` once past."""
    if promised_by <= now:
        return f"Overdue since {promise_words(promised_by, now, timezone).removesuffix(' today')}"
    return f"Due by {promise_words(promised_by, now, timezone).removesuffix(' today')}"


def _first_name(name: str | None) -> str:
    words = _clean(name).split()
    return words[0][:_NAME_MOST] if words else ""


def _clean(text: str | None) -> str:
    return " ".join(gsm_friendly(text or "").replace("{", "").replace("}", "").split())[:60]
