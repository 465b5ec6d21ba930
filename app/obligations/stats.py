"""SLA figures for a window [since, until), computed the same way on SQLite and PostgreSQL.

- open: obligations open at `until` (opened before it, not closed by it), by age then;
- missed: calls first reported missed in the window (`calls.missed_at`);
- returned: obligations closed in the window with reason `callback` or `answered`;
- time to return: median and 90th percentile of `seconds_to_close` of those, by linear
  interpolation between the two nearest ranks (PostgreSQL's `percentile_cont`). Neither
  database's percentile function is used (SQLite has none): a window function numbers the
  sorted values and only the ranks needed are read back.
"""

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from app.courtesy.promises import kept_and_broken, ratio
from app.models import Call, CloseReason, Obligation, ObligationStatus, Recruiter

AGE_BUCKETS = (
    ("lt_1h", timedelta(hours=1)),
    ("1h_4h", timedelta(hours=4)),
    ("4h_24h", timedelta(hours=24)),
    ("gt_24h", None),
)
RETURNED = (CloseReason.CALLBACK, CloseReason.ANSWERED)
MEDIAN, P90 = Fraction(1, 2), Fraction(9, 10)


@dataclass
class Figures:
    """The figures of one recruiter, or of everyone."""

    open_by_age: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_names(), 0))
    missed: int = 0
    returned: int = 0
    median_seconds: float | None = None
    p90_seconds: float | None = None
    kept: int = 0  # promises kept and broken (app/courtesy/promises.py)
    broken: int = 0

    @property
    def open_total(self) -> int:
        return sum(self.open_by_age.values())

    @property
    def kept_ratio(self) -> float | None:
        return ratio(self.kept, self.broken)


@dataclass(frozen=True)
class RecruiterFigures:
    recruiter_id: int
    name: str
    figures: Figures


@dataclass(frozen=True)
class Stats:
    since: datetime
    until: datetime
    total: Figures
    by_recruiter: list[RecruiterFigures]


async def compute_stats(session: AsyncSession, *, since: datetime, until: datetime) -> Stats:
    """Every figure for the window, overall and per recruiter (the active ones, and any other
    with something to count)."""
    figures: dict[int, Figures] = defaultdict(Figures)
    total = Figures()
    for recruiter_id, bucket, count in await _open_at(session, until):
        figures[recruiter_id].open_by_age[bucket] += count
        total.open_by_age[bucket] += count
    for missed_by, count in await _missed(session, since, until):
        total.missed += count
        if missed_by is not None:
            figures[missed_by].missed = count
    for returned_by, (count, median, p90) in (await _returned(session, since, until)).items():
        target = total if returned_by is None else figures[returned_by]
        target.returned, target.median_seconds, target.p90_seconds = count, median, p90
    for kept_by, (kept, broken) in (
        await kept_and_broken(session, since=since, until=until)
    ).items():
        figures[kept_by].kept, figures[kept_by].broken = kept, broken
        total.kept, total.broken = total.kept + kept, total.broken + broken
    recruiters = await session.execute(
        select(Recruiter.id, Recruiter.name)
        .where(or_(Recruiter.active, Recruiter.id.in_(list(figures))))
        .order_by(Recruiter.id)
    )
    by_recruiter = [RecruiterFigures(r.id, r.name, figures[r.id]) for r in recruiters]
    return Stats(since, until, total, by_recruiter)


async def _open_at(session: AsyncSession, until: datetime) -> list[tuple[int, str, int]]:
    """(recruiter, age bucket, count) of obligations open at `until`."""
    # Two index-driven halves: still open now, or closed only after `until`.
    still_open = select(Obligation.recruiter_id, Obligation.opened_at).where(
        Obligation.status == ObligationStatus.OPEN, Obligation.opened_at < _at(until)
    )
    closed_later = select(Obligation.recruiter_id, Obligation.opened_at).where(
        Obligation.closed_at >= _at(until), Obligation.opened_at < _at(until)
    )
    both = union_all(still_open, closed_later).subquery()
    bucket = _age_bucket(both.c.opened_at, until)
    rows = await session.execute(
        select(both.c.recruiter_id, bucket.label("bucket"), func.count()).group_by(
            both.c.recruiter_id, bucket
        )
    )
    return [(row[0], row[1], row[2]) for row in rows]


def _age_bucket(opened_at: ColumnElement[Any], until: datetime) -> ColumnElement[str]:
    """The age bucket at `until`, compared on opened_at so both databases agree exactly."""
    whens = [
        (opened_at > _at(until - limit), literal(name))
        for name, limit in AGE_BUCKETS
        if limit is not None
    ]
    return case(*whens, else_=literal(AGE_BUCKETS[-1][0]))


async def _missed(
    session: AsyncSession, since: datetime, until: datetime
) -> list[tuple[int | None, int]]:
    rows = await session.execute(
        select(Call.recruiter_id, func.count())
        .where(Call.missed_at >= _at(since), Call.missed_at < _at(until))
        .group_by(Call.recruiter_id)
    )
    return [(row[0], row[1]) for row in rows]


async def _returned(
    session: AsyncSession, since: datetime, until: datetime
) -> dict[int | None, tuple[int, float, float]]:
    """(count, median, p90) of returned obligations per recruiter, and overall under None."""
    per_recruiter = await _needed_ranks(session, since, until, per_recruiter=True)
    overall = await _needed_ranks(session, since, until, per_recruiter=False)
    return _summaries(per_recruiter) | _summaries(overall)


def _summaries(
    rows: list[tuple[int | None, int, int, int]],
) -> dict[int | None, tuple[int, float, float]]:
    ranks: dict[int | None, dict[int, int]] = defaultdict(dict)
    sizes: dict[int | None, int] = {}
    for group, rank, size, seconds in rows:
        ranks[group][rank] = seconds
        sizes[group] = size
    return {
        group: (size, _percentile(ranks[group], size, MEDIAN), _percentile(ranks[group], size, P90))
        for group, size in sizes.items()
    }


async def _needed_ranks(
    session: AsyncSession, since: datetime, until: datetime, *, per_recruiter: bool
) -> list[tuple[int | None, int, int, int]]:
    """(group, rank, group size, seconds) for just the ranks the percentiles read."""
    partition = [Obligation.recruiter_id] if per_recruiter else None
    seconds = Obligation.seconds_to_close
    ranked = (
        select(
            (Obligation.recruiter_id if per_recruiter else literal(None)).label("grp"),
            seconds.label("seconds"),
            (func.row_number().over(partition_by=partition, order_by=seconds) - 1).label("rank"),
            func.count().over(partition_by=partition).label("size"),
        )
        .where(
            Obligation.closed_at >= _at(since),
            Obligation.closed_at < _at(until),
            Obligation.close_reason.in_(RETURNED),
            seconds.is_not(None),
        )
        .subquery()
    )
    last = ranked.c.size - 1
    wanted = [_floor(last, p) for p in (MEDIAN, P90)] + [_ceil(last, p) for p in (MEDIAN, P90)]
    rows = await session.execute(
        select(ranked.c.grp, ranked.c.rank, ranked.c.size, ranked.c.seconds).where(
            or_(*[ranked.c.rank == rank for rank in wanted])
        )
    )
    return [(row[0], row[1], row[2], row[3]) for row in rows]


def _floor(last: Any, p: Fraction) -> Any:
    """floor(last * p) in integer SQL arithmetic (operands are never negative)."""
    return (last * p.numerator) // p.denominator


def _ceil(last: Any, p: Fraction) -> Any:
    return (last * p.numerator + (p.denominator - 1)) // p.denominator


def _percentile(values: dict[int, int], size: int, p: Fraction) -> float:
    """Linear interpolation between the ranks around p·(size−1)."""
    position = (size - 1) * p
    low, high = values[math.floor(position)], values[math.ceil(position)]
    return float(low + (high - low) * (position - math.floor(position)))


def _at(moment: datetime) -> Any:
    """A bound time typed like the columns, so SQLite compares its stored text format."""
    return literal(moment, Obligation.opened_at.type)


def _names() -> list[str]:
    return [name for name, _ in AGE_BUCKETS]
