"""The public pledge record: how each opted-in recruiter keeps the promise to call back.

Figures are over obligations opened in the last 90 days with a caller to call back (a
withheld caller cannot be returned): how many, how many were returned (closed by a callback
or a later answered call), the share, and the median time to return; and the share of the
promises decided in those 90 days that were kept (the stats' kept / (kept + broken), from
app/courtesy/promises.py). Nothing about a caller is read here: no number, name or
transcript can reach these pages.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Request
from sqlalchemy import func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from app.courtesy.promises import kept_and_broken, ratio
from app.errors import NotFound
from app.http.deps import ClockDep, SessionDep, SettingsDep
from app.models import Obligation, Recruiter
from app.obligations import stats
from app.web.medians import median_seconds
from app.web.render import TEMPLATES, public_page, span

router = APIRouter(prefix="/pledge")
WINDOW = timedelta(days=90)
FRESH_FOR = timedelta(minutes=1)
Slug = Annotated[str, Path(min_length=2, max_length=60, pattern=r"^[a-z0-9-]+$")]


@dataclass(frozen=True)
class PledgeRecord:
    """One recruiter's public figures for the window."""

    name: str
    slug: str
    missed: int
    returned: int
    median_seconds: float | None
    kept: int = 0  # promises kept and broken in the window (app/courtesy/promises.py)
    broken: int = 0

    @property
    def share(self) -> float | None:
        return None if not self.missed else self.returned / self.missed

    def share_text(self) -> str:
        return _percent(self.share)

    def kept_share_text(self) -> str:
        """The share of decided promises that were kept: returned within the promise."""
        return _percent(ratio(self.kept, self.broken))

    def badge_text(self) -> str:
        if self.share is None:
            return "no missed calls yet"
        return f"returns {self.share_text()} of calls · median {span(self.median_seconds)}"


def _percent(share: float | None) -> str:
    return "–" if share is None else f"{round(share * 100)} %"


async def pledge_records(
    session: AsyncSession, *, now: datetime, slug: str | None = None
) -> list[PledgeRecord]:
    """The records of the active recruiters who publish theirs (or of the one at `slug`)."""
    query = select(Recruiter.id, Recruiter.name, Recruiter.slug).where(
        Recruiter.active, Recruiter.public_pledge, Recruiter.slug.is_not(None)
    )
    if slug is not None:
        query = query.where(Recruiter.slug == slug)
    people = (await session.execute(query.order_by(Recruiter.name))).all()
    if not people:
        return []
    counts, medians = await _figures(session, [p.id for p in people], since=now - WINDOW)
    promises = await kept_and_broken(session, since=now - WINDOW, until=now)
    return [
        PledgeRecord(
            p.name,
            str(p.slug),
            *counts.get(p.id, (0, 0)),
            medians.get(p.id),
            *promises.get(p.id, (0, 0)),
        )
        for p in people
    ]


async def _figures(
    session: AsyncSession, recruiter_ids: list[int], *, since: datetime
) -> tuple[dict[int, tuple[int, int]], dict[int, float]]:
    """(missed, returned) and the median seconds to return, per recruiter."""
    cohort = [
        Obligation.recruiter_id.in_(recruiter_ids),
        Obligation.opened_at >= literal(since, Obligation.opened_at.type),
        Obligation.caller.is_not(None),
    ]
    returned = Obligation.close_reason.in_(stats.RETURNED)
    totals = await session.execute(
        select(Obligation.recruiter_id, func.count(), func.count().filter(returned))
        .where(*cohort)
        .group_by(Obligation.recruiter_id)
    )
    counts = {row[0]: (row[1], row[2]) for row in totals}
    medians = await median_seconds(session, group=Obligation.recruiter_id, where=cohort)
    return counts, medians


class RecordCache:
    """Figures computed at most once a minute per page: anyone may ask for these pages, as
    often as they like, and each asks for 90 days of aggregates."""

    def __init__(self) -> None:
        self._kept: dict[str | None, tuple[datetime, list[PledgeRecord]]] = {}

    async def records(
        self, session: AsyncSession, *, now: datetime, slug: str | None = None
    ) -> list[PledgeRecord]:
        kept = self._kept.get(slug)
        if kept is None or not now - FRESH_FOR <= kept[0] <= now:
            kept = (now, await pledge_records(session, now=now, slug=slug))
            self._kept[slug] = kept
        return kept[1]


def _cache(request: Request) -> RecordCache:
    cache: RecordCache | None = getattr(request.app.state, "pledge_cache", None)
    if cache is None:
        cache = request.app.state.pledge_cache = RecordCache()
    return cache


async def _one(request: Request, session: AsyncSession, slug: str, now: datetime) -> PledgeRecord:
    found = await _cache(request).records(session, now=now, slug=slug)
    if not found:
        raise NotFound(f"no public pledge record at {slug}")
    return found[0]


@router.get("", include_in_schema=False)
async def index(request: Request, session: SessionDep, clock: ClockDep) -> Response:
    records = await _cache(request).records(session, now=clock.now())
    return public_page(request, "pledge_index.html", {"records": records, "days": WINDOW.days})


@router.get("/{slug}", include_in_schema=False)
async def one(
    slug: Slug, request: Request, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> Response:
    record = await _one(request, session, slug, clock.now())
    context = {"record": record, "days": WINDOW.days, "base": settings.public_base_url}
    return public_page(request, "pledge.html", context)


@router.get("/{slug}/badge.svg", include_in_schema=False)
async def badge(slug: Slug, request: Request, session: SessionDep, clock: ClockDep) -> Response:
    """An embeddable badge: "returns 97 % of calls · median 1h 12m"."""
    record = await _one(request, session, slug, clock.now())
    text = record.badge_text()
    svg = TEMPLATES.get_template("badge.svg").render(
        label="callpledge", text=text, label_width=78, text_width=14 + 6.4 * len(text)
    )
    headers = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}
    return Response(svg, media_type="image/svg+xml", headers=headers)
