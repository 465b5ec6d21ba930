"""The obligation filter's query parameters, as the listing and the CSV export declare them."""

from typing import Annotated

from fastapi import Query

from app.api.schemas import OptionalInstant
from app.errors import InvalidInput
from app.phones import InvalidNumber, to_e164

RecruiterQuery = Annotated[int | None, Query(ge=1, le=2**31 - 1)]
OpenedAfter = Annotated[OptionalInstant, Query(description="exclusive")]
OpenedBefore = Annotated[OptionalInstant, Query(description="exclusive")]
Overdue = Annotated[
    bool | None,
    Query(description="true: open past promised_by, longest overdue first; false: the rest"),
]


def e164_or_invalid(
    raw: str, region: str, *, field: str = "caller", location: str = "query"
) -> str:
    """`raw` as E.164, or InvalidInput naming the parameter it came in."""
    try:
        return to_e164(raw, region)
    except InvalidNumber as exc:
        raise InvalidInput(str(exc), field=field, location=location) from None
