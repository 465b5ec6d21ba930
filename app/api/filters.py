"""The obligation filter's query parameters, which the listing and the CSV export share."""

from typing import Annotated

from fastapi import Depends, Query

from app.api.schemas import OptionalInstant
from app.errors import InvalidInput
from app.http.deps import NowDep, SettingsDep
from app.models import ObligationStatus
from app.obligations.queries import ObligationFilter
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


async def obligation_filter(
    settings: SettingsDep,
    now: NowDep,
    status: ObligationStatus | None = None,
    recruiter_id: RecruiterQuery = None,
    caller: Annotated[
        str | None, Query(max_length=64, description="any format; read as E.164")
    ] = None,
    opened_after: OpenedAfter = None,
    opened_before: OpenedBefore = None,
    overdue: Overdue = None,
) -> ObligationFilter:
    """The filter the query asks for, the caller read as E.164 and "overdue" as of now."""
    return ObligationFilter(
        status=status,
        recruiter_id=recruiter_id,
        caller=None if caller is None else e164_or_invalid(caller, settings.default_region),
        opened_after=opened_after,
        opened_before=opened_before,
        overdue=overdue,
        at=now,
    )


ObligationWhere = Annotated[ObligationFilter, Depends(obligation_filter)]
