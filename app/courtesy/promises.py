"""Promises kept and broken in a window [since, until), for the stats:

- kept: closed in the window by a callback or an answered call, at or before `promised_by`;
- broken: `promised_by` fell in the window while the obligation was still open (it closed
  later, or not yet).

Each promise counts once, when it is decided; one closed early by DONE or ops is neither.
Both halves of `broken` read an index: the open ones the partial index on open rows, the
closed ones `ix_obligations_closed` (closed after a promise in the window is closed after
`since`).
"""

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, literal, literal_column, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import CloseReason, Obligation, ObligationStatus

RETURNED = (CloseReason.CALLBACK, CloseReason.ANSWERED)
_OPEN = Obligation.status == literal_column(f"'{ObligationStatus.OPEN.value}'")


async def kept_and_broken(
    session: AsyncSession, *, since: datetime, until: datetime
) -> dict[int, tuple[int, int]]:
    """(kept, broken) per recruiter."""
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    kept = (
        select(Obligation.recruiter_id, func.count())
        .where(
            Obligation.closed_at >= _at(since),
            Obligation.closed_at < _at(until),
            Obligation.close_reason.in_(RETURNED),
            Obligation.closed_at <= Obligation.promised_by,
        )
        .group_by(Obligation.recruiter_id)
    )
    for recruiter_id, count in await session.execute(kept):
        counts[recruiter_id][0] = count
    for recruiter_id, count in await session.execute(_broken(since, until)):
        counts[recruiter_id][1] = count
    return {recruiter_id: (pair[0], pair[1]) for recruiter_id, pair in counts.items()}


def _broken(since: datetime, until: datetime) -> Any:
    in_window = [Obligation.promised_by >= _at(since), Obligation.promised_by < _at(until)]
    still_open = select(Obligation.recruiter_id).where(_OPEN, *in_window)
    closed_late = select(Obligation.recruiter_id).where(
        Obligation.closed_at > _at(since), Obligation.closed_at > Obligation.promised_by, *in_window
    )
    both = union_all(still_open, closed_late).subquery()
    return select(both.c.recruiter_id, func.count()).group_by(both.c.recruiter_id)


def ratio(kept: int, broken: int) -> float | None:
    """The share of decided promises that were kept (None when none was decided)."""
    decided = kept + broken
    return None if decided == 0 else kept / decided


def _at(moment: datetime) -> Any:
    return literal(moment, Obligation.promised_by.type)
