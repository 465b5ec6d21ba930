"""A recruiter's editable fields and how each is cleaned (ops API and CLI alike)."""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from app.config import Settings
from app.courtesy.views import clean_caller_text, clean_template
from app.errors import InvalidInput
from app.hours import parse_working_hours
from app.phones import InvalidNumber, is_withheld, to_e164

_CLIENT_IDENTITY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,119}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SLUG = re.compile(r"[a-z0-9](?:-?[a-z0-9]){1,59}")

EDITABLE = frozenset(
    {
        "name",
        "mobile",
        "line",
        "timezone",
        "working_hours",
        "escalation_number",
        "client_identity",
        "public_pledge",
        "slug",
        "caller_text",
        "caller_text_template",
    }
)


@dataclass(frozen=True)
class Numbering:
    """How numbers and zones are read when they are not spelled out in full."""

    region: str
    default_timezone: str

    @classmethod
    def of(cls, settings: Settings) -> "Numbering":
        return cls(settings.default_region, settings.default_timezone)


def cleaned(fields: Mapping[str, Any], numbering: Numbering) -> dict[str, Any]:
    """The fields, each checked and normalised; InvalidInput names the first bad one."""
    unknown = sorted(set(fields) - EDITABLE)
    if unknown:
        raise InvalidInput(f"{unknown[0]} cannot be set", field=unknown[0])
    return {name: _CLEANERS[name](value, numbering) for name, value in fields.items()}


def _name(value: Any, _numbering: Numbering) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not 1 <= len(text) <= 200 or _CONTROL.search(text):
        raise InvalidInput("name must be 1-200 printable characters", field="name")
    return text


def _number(field: str, *, optional: bool = False) -> Callable[[Any, Numbering], str | None]:
    def clean(value: Any, numbering: Numbering) -> str | None:
        if value is None and optional:
            return None
        if not isinstance(value, str) or is_withheld(value):
            raise InvalidInput(f"{field} must be a phone number", field=field)
        try:
            return to_e164(value, numbering.region)
        except InvalidNumber as exc:
            raise InvalidInput(
                f"{field}: {exc}; write it in E.164 (+14155550100) or as dialled in "
                f"{numbering.region}",
                field=field,
            ) from None

    return clean


def _timezone(value: Any, numbering: Numbering) -> str:
    if value is None:  # the schema's null: the default zone, on creation as on change
        return numbering.default_timezone
    if not isinstance(value, str) or value not in _iana_zones():
        raise InvalidInput(
            "timezone must be an IANA time zone name such as Europe/London or America/New_York",
            field="timezone",
        )
    return value


def _working_hours(value: Any, _numbering: Numbering) -> dict[str, list[list[str]]] | None:
    try:
        return parse_working_hours(value)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="working_hours") from None


def _client_identity(value: Any, _numbering: Numbering) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _CLIENT_IDENTITY.fullmatch(value):
        raise InvalidInput(
            "client_identity must be a bare name such as alice (letters, digits, '_', '.', '-'),"
            " without client: or sip:",
            field="client_identity",
        )
    return value


def _public_pledge(value: Any, _numbering: Numbering) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput("public_pledge must be true or false", field="public_pledge")
    return value


def _slug(value: Any, _numbering: Numbering) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 60 or not _SLUG.fullmatch(value):
        raise InvalidInput(
            "slug must be 2-60 lower-case letters, digits and single '-' between them, "
            "such as alice-example",
            field="slug",
        )
    return value


_CLEANERS: dict[str, Callable[[Any, Numbering], Any]] = {
    "name": _name,
    "mobile": _number("mobile"),
    "line": _number("line"),
    "escalation_number": _number("escalation_number", optional=True),
    "timezone": _timezone,
    "working_hours": _working_hours,
    "client_identity": _client_identity,
    "public_pledge": _public_pledge,
    "slug": _slug,
    "caller_text": clean_caller_text,
    "caller_text_template": clean_template,
}


@cache
def _iana_zones() -> frozenset[str]:
    # `localtime` is this machine's zone, not an IANA name.
    return frozenset(available_timezones() - {"localtime"})
