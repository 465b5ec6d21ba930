"""The field types and example helpers the ops API's JSON is made of."""

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)
from pydantic.json_schema import WithJsonSchema

from app.courtesy.texts import TEMPLATE_MOST

# Inputs far outside any real data are clamped here, so arithmetic on them cannot overflow.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def _in_utc(moment: datetime) -> datetime:
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 with an offset
        return EARLIEST if moment.year < 2000 else LATEST
    return min(max(utc, EARLIEST), LATEST)


def _iso_text(value: Any) -> Any:
    # Pydantic would also read a bare number as a Unix time; the API promises ISO 8601 only.
    if isinstance(value, str) and not _ISO_DATE.match(value):
        raise ValueError("must be an ISO 8601 time with an offset, e.g. 2026-01-05T10:00:00Z")
    return value


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]")
Instant = Annotated[AwareDatetime, BeforeValidator(_iso_text), AfterValidator(_in_utc)]


def _blank_is_none(value: Any) -> Any:
    return None if value == "" else value


# An optional time in a query: `?since=` left empty is the same as leaving it out.
OptionalInstant = Annotated[
    Instant | None,
    BeforeValidator(_blank_is_none),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date-time"},
                {"type": "string", "maxLength": 0, "description": "empty: not given"},
                {"type": "null"},
            ]
        }
    ),
]
PRINTABLE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
OneLine = Annotated[str, StringConstraints(pattern=r"^[^\x00-\x1f\x7f]*$")]
Number = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f]*$")]
ClockTime = Annotated[str, StringConstraints(pattern=r"^(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)$")]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WorkingHours = dict[Day, list[Annotated[list[ClockTime], Field(min_length=2, max_length=2)]]]
TimeZone = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+\-/]+$")
]
ClientIdentity = Annotated[
    str, StringConstraints(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
]
Slug = Annotated[
    str, StringConstraints(min_length=2, max_length=60, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
]
Name = Annotated[OneLine, StringConstraints(min_length=1, max_length=200)]
Duration = Annotated[str, StringConstraints(pattern=r"^(?:\d{1,7}[smhd])+$", max_length=40)]
CallerTemplate = Annotated[
    str, StringConstraints(min_length=1, max_length=TEMPLATE_MOST, pattern=PRINTABLE)
]
TEMPLATE_HELP = (
    "the text-back, with {caller_name}, {recruiter}, {promise} and {team}; null: the default"
)

HOURS_EXAMPLE = {"mon": [["09:00", "17:30"]], "tue": [["09:00", "12:00"], ["13:00", "17:30"]]}
T = "2026-01-05T10:00:00Z"


def examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(examples)})
