"""Overdue obligations: open past their promise. Listed most overdue first, keyset-paged on
(promised_by, id) through the partial index on open rows, so a page costs the same at any
depth and for millions of rows; counted for the Prometheus gauge the same way."""

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal, literal_column, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Obligation, ObligationStatus
from app.paging import Page, Position, decode_cursor, encode_cursor

KIND = "overdue"
# Inlined, not bound: only a literal lets either planner match the partial index's WHERE.
_OPEN = Obligation.status == literal_column(f"'{ObligationStatus.OPEN.value}'")


def overdue_at(now: datetime) -> list[ColumnElement[bool]]:
    """The conditions of an obligation overdue at `now`."""
    return [_OPEN, Obligation.promised_by < _typed(now)]


def not_overdue_at(now: datetime) -> ColumnElement[bool]:
    """The condition of an obligation not overdue at `now` (closed, or its promise ahead)."""
    return or_(
        Obligation.status != ObligationStatus.OPEN,
        Obligation.promised_by.is_(None),
        Obligation.promised_by >= _typed(now),
    )


async def most_overdue_first(
    session: AsyncSession,
    statement: Select[Any],
    *,
    now: datetime,
    cursor: str | None,
    limit: int,
) -> Page[Obligation]:
    """One page of `statement`'s overdue obligations, the longest overdue first."""
    rows = (
        await session.scalars(overdue_page(statement, now=now, cursor=cursor, limit=limit))
    ).all()
    if len(rows) <= limit:
        return Page(rows, None)
    last = rows[limit - 1]
    assert last.promised_by is not None
    return Page(rows[:limit], encode_cursor(KIND, Position(last.promised_by, last.id)))


def overdue_page(
    statement: Select[Any], *, now: datetime, cursor: str | None, limit: int
) -> Select[Any]:
    """`statement` narrowed to one page of overdue obligations (one more row than `limit`)."""
    statement = statement.where(*overdue_at(now))
    if cursor is not None:
        position = decode_cursor(KIND, cursor)
        after = tuple_(_typed(position.at), literal(position.id, Obligation.id.type))
        statement = statement.where(tuple_(Obligation.promised_by, Obligation.id) > after)
    return statement.order_by(Obligation.promised_by, Obligation.id).limit(limit + 1)


async def count_overdue(session: AsyncSession, *, now: datetime) -> int:
    """How many obligations are overdue at `now`."""
    counted = select(func.count()).select_from(Obligation).where(*overdue_at(now))
    return int(await session.scalar(counted) or 0)


def _typed(moment: datetime) -> Any:
    """A bound time typed like the column, so SQLite compares its stored text format."""
    return literal(moment, Obligation.promised_by.type)
