"""The stats page: the /api/v1/stats figures, with time to return per day and per recruiter."""

from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from sqlalchemy import literal
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from app.http.deps import ClockDep, SessionDep
from app.models import Obligation
from app.obligations import stats
from app.web.auth import OperatorDep
from app.web.charts import bar_chart
from app.web.medians import day_index, median_seconds
from app.web.render import page

router = APIRouter(prefix="/dashboard")
WINDOWS = (7, 30, 90)


async def daily_medians(
    session: AsyncSession, *, since: datetime, days: int
) -> list[tuple[str, float | None]]:
    """(day, median seconds to return) for each UTC day from `since`, as `stats` counts returns."""
    starts = [since + timedelta(days=n) for n in range(days)]
    closed = Obligation.closed_at
    dialect = session.get_bind().dialect.name
    found = await median_seconds(
        session,
        group=day_index(dialect, closed, since),
        where=[closed >= literal(since, closed.type)],
    )
    return [(f"{start:%m-%d}", found.get(index)) for index, start in enumerate(starts)]


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
