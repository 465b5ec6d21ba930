"""Obligations as CSV: any number of them, in keyset batches, in constant memory.

Each batch is read in its own short transaction, so an export of millions never holds
one open; cells a spreadsheet would run as a formula are prefixed with `'`. The order is
the listing's: newest opened first, or with `overdue=true` longest overdue first (keyset on
the promise, through the partial index on open rows).
"""

import csv
import io
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.courtesy.overdue import not_overdue_at, overdue_at
from app.db import begin_read_only
from app.models import Obligation
from app.obligations.queries import ObligationFilter, obligations_page

BATCH = 500
COLUMNS = (
    "id",
    "recruiter_id",
    "caller",
    "caller_name",
    "status",
    "opened_at",
    "last_missed_at",
    "missed_calls",
    "reminders_sent",
    "callback_attempts",
    "closed_at",
    "close_reason",
    "seconds_to_close",
)
# A spreadsheet runs a cell starting with one of these as a formula (OWASP: CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The value as a CSV cell no spreadsheet will run as a formula."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "value"):  # an enum
        value = value.value
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _lines(rows: Sequence[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([[safe_cell(cell) for cell in row] for row in rows])
    return buffer.getvalue()


async def count(sessions: async_sessionmaker[AsyncSession], *, where: ObligationFilter) -> int:
    """How many obligations an export would hold (for a progress bar)."""
    async with sessions() as session:
        await begin_read_only(session)
        statement = select(func.count()).select_from(Obligation).where(*_clauses(where))
        return int((await session.execute(statement)).scalar_one())


async def csv_chunks(
    sessions: async_sessionmaker[AsyncSession], *, where: ObligationFilter
) -> AsyncIterator[str]:
    """The header, then one chunk of CSV per batch of obligations, in the listing's order."""
    yield _lines([COLUMNS])
    batch = BATCH
    cursor: str | None = None
    while True:
        async with sessions() as session:
            await begin_read_only(session)
            page = await obligations_page(session, where=where, cursor=cursor, limit=batch)
            chunk = _lines([[getattr(o, name) for name in COLUMNS] for o in page.items])
            await session.rollback()
        yield chunk
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _clauses(where: ObligationFilter) -> list[ColumnElement[bool]]:
    """The filter's clauses, `overdue` (at `where.at`) included."""
    if where.overdue is None or where.at is None:
        return where.clauses()
    overdue = overdue_at(where.at) if where.overdue else [not_overdue_at(where.at)]
    return [*where.clauses(), *overdue]
