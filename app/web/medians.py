"""Median time to return per group, computed in the database the same way on both dialects.

Only the one or two middle rows of each group travel back (a window function numbers the
sorted values), so a page costs the same whether a window holds a hundred returns or ten
thousand. The median of an even count is the mean of the two middle values, as in
`app.obligations.stats`.
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, cast, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.models import Obligation
from app.obligations import stats


async def median_seconds(
    session: AsyncSession,
    *,
    group: ColumnElement[Any] | InstrumentedAttribute[Any],
    where: Sequence[ColumnElement[bool]],
) -> dict[Any, float]:
    """{group: median seconds to return} over the returned obligations matching `where`."""
    seconds = Obligation.seconds_to_close
    ranked = (
        select(
            group.label("grp"),
            seconds.label("seconds"),
            (func.row_number().over(partition_by=group, order_by=seconds) - 1).label("rank"),
            func.count().over(partition_by=group).label("size"),
        )
        .where(*where, Obligation.close_reason.in_(stats.RETURNED), seconds.is_not(None))
        .subquery()
    )
    last = ranked.c.size - 1
    middle = await session.execute(
        select(ranked.c.grp, ranked.c.seconds).where(
            or_(ranked.c.rank == last // 2, ranked.c.rank == (last + 1) // 2)
        )
    )
    values: dict[Any, list[int]] = defaultdict(list)
    for key, value in middle:
        values[key].append(value)
    return {key: sum(pair) / len(pair) for key, pair in values.items()}


def day_index(
    dialect: str, moment: InstrumentedAttribute[datetime | None], since: datetime
) -> ColumnElement[int]:
    """Whole days from `since` to `moment` (both UTC): day 0 is `since`'s first 24 hours."""
    start = literal(since, moment.type)
    if dialect == "sqlite":  # stored as UTC text, which julianday() reads
        return cast(func.julianday(moment) - func.julianday(start), Integer)
    return cast(func.floor(func.extract("epoch", moment - start) / 86400), Integer)
