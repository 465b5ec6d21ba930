"""The stats page: the /api/v1/stats figures, with time to return per day and per recruiter."""

import statistics
from collections import defaultdict
from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from sqlalchemy import literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from app import stats
from app.deps import ClockDep, SessionDep
from app.models import Obligation
from app.web.auth import OperatorDep
from app.web.charts import bar_chart
from app.web.render import page

router = APIRouter(prefix="/dashboard")
WINDOWS = (7, 30, 90)


async def daily_medians(
    session: AsyncSession, *, since: datetime, days: int
) -> list[tuple[str, float | None]]:
    """(day, median seconds to return) for each UTC day from `since`, as `stats` counts returns."""
    at = Obligation.closed_at
    rows = await session.execute(
        select(at, Obligation.seconds_to_close).where(
            at >= literal(since, at.type),
            Obligation.close_reason.in_(stats.RETURNED),
            Obligation.seconds_to_close.is_not(None),
        )
    )
    by_day: dict[str, list[int]] = defaultdict(list)
    for closed_at, seconds in rows:
        if closed_at is not None and seconds is not None:
            by_day[closed_at.date().isoformat()].append(seconds)
    labels = [(since + timedelta(days=n)).date().isoformat() for n in range(days)]
    return [(day[5:], statistics.median(by_day[day]) if by_day[day] else None) for day in labels]


@router.get("/stats", include_in_schema=False)
async def stats_view(
    request: Request, session: SessionDep, clock: ClockDep, operator: OperatorDep, days: int = 7
) -> Response:
    window = days if days in WINDOWS else WINDOWS[0]
    now = clock.now()
    start = (now - timedelta(days=window - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    found = await stats.compute_stats(session, since=start, until=now)
    per_day = bar_chart(await daily_medians(session, since=start, days=window))
    per_recruiter = bar_chart([(r.name, r.figures.median_seconds) for r in found.by_recruiter])
    context = {
        "found": found,
        "per_day": per_day,
        "per_recruiter": per_recruiter,
        "window": window,
        "windows": WINDOWS,
        "operator": operator,
    }
    return page(request, "stats.html", context)
