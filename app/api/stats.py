"""/api/v1/stats: SLA figures for a window, overall and per recruiter."""

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from app.api.schemas import OptionalInstant
from app.api.stats_schemas import (
    Figures,
    OpenByAge,
    OpenFigures,
    RecruiterStats,
    Stats,
    TimeToReturn,
)
from app.errors import InvalidInput
from app.http.deps import ClockDep, SessionDep
from app.http.openapi import responses
from app.obligations import stats

router = APIRouter(prefix="/stats", tags=["stats"])
DEFAULT_WINDOW = timedelta(days=7)


@router.get(
    "", summary="Open, missed and returned obligations in a window", responses=responses(422)
)
async def get_stats(
    session: SessionDep,
    clock: ClockDep,
    since: Annotated[
        OptionalInstant, Query(description="start (inclusive); default until − 7 days")
    ] = None,
    until: Annotated[OptionalInstant, Query(description="end (exclusive); default now")] = None,
) -> Stats:
    end = until or clock.now()
    start = since or end - DEFAULT_WINDOW
    if start >= end:
        raise InvalidInput("since must be before until", field="since", location="query")
    found = await stats.compute_stats(session, since=start, until=end)
    return Stats(
        since=found.since,
        until=found.until,
        by_recruiter=[
            RecruiterStats(recruiter_id=r.recruiter_id, name=r.name, **_figures(r.figures))
            for r in found.by_recruiter
        ],
        **_figures(found.total),
    )


def _figures(figures: stats.Figures) -> dict[str, object]:
    by_age = figures.open_by_age
    return dict(
        Figures(
            open=OpenFigures(
                total=figures.open_total,
                by_age=OpenByAge(
                    lt_1h=by_age["lt_1h"],
                    h1_4h=by_age["1h_4h"],
                    h4_24h=by_age["4h_24h"],
                    gt_24h=by_age["gt_24h"],
                ),
            ),
            missed=figures.missed,
            returned=figures.returned,
            time_to_return=TimeToReturn(
                median_seconds=figures.median_seconds, p90_seconds=figures.p90_seconds
            ),
            kept=figures.kept,
            broken=figures.broken,
            kept_ratio=figures.kept_ratio,
        )
    )
