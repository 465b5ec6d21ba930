"""Keyset pagination, newest first, behind an opaque cursor.

A page is `WHERE (t, id) < (cursor) ORDER BY t DESC, id DESC LIMIT n+1`: the index on
(t, id) is walked from the cursor on, so a page costs the same at any depth (no OFFSET),
and rows that arrive while a client pages (newer than its cursor) never shift its pages.
"""

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, literal, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.errors import InvalidInput

T = TypeVar("T")
_MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class Position:
    """Where a page ends: the (time, id) of its last row."""

    at: datetime
    id: int


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_cursor: str | None


def encode_cursor(kind: str, position: Position) -> str:
    """An opaque, URL-safe cursor naming the listing it belongs to."""
    raw = json.dumps([kind, position.at.isoformat(), position.id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str) -> Position:
    """The position behind `cursor`; 422 naming `cursor` if it is not one this listing gave."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        given_kind, at_text, row_id = json.loads(raw)
        at = datetime.fromisoformat(at_text)
        if given_kind != kind or at.tzinfo is None or not isinstance(row_id, int):
            raise ValueError("not this listing's cursor")
        if isinstance(row_id, bool) or not 0 <= row_id <= _MAX_ID:
            raise ValueError("id out of range")
        return Position(at.astimezone(UTC), row_id)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, OverflowError):
        raise InvalidInput(
            "cursor is not one this listing gave out; start again without it",
            field="cursor",
            location="query",
        ) from None


async def keyset_page(
    session: AsyncSession,
    statement: Select[Any],
    *,
    kind: str,
    at: InstrumentedAttribute[datetime],
    id: InstrumentedAttribute[int],
    cursor: str | None,
    limit: int,
    newest: bool,
) -> Page[Any]:
    """One page of `statement`'s rows in (at, id) order, newest or oldest first, and the
    cursor of the next (or None)."""
    if cursor is not None:
        position = decode_cursor(kind, cursor)
        key, seen = tuple_(at, id), tuple_(_typed(at, position.at), position.id)
        statement = statement.where(key < seen if newest else key > seen)
    order = (at.desc(), id.desc()) if newest else (at.asc(), id.asc())
    statement = statement.order_by(*order).limit(limit + 1)
    return _cut((await session.scalars(statement)).all(), kind, at, limit)


# The listings' two orders; oldest first is the dashboard's board.
newest_first = partial(keyset_page, newest=True)
oldest_first = partial(keyset_page, newest=False)


def _cut(
    rows: Sequence[Any], kind: str, at: InstrumentedAttribute[datetime], limit: int
) -> Page[Any]:
    """The first `limit` rows, and a cursor after them if there were more."""
    if len(rows) <= limit:
        return Page(rows, None)
    last = rows[limit - 1]
    return Page(rows[:limit], encode_cursor(kind, Position(getattr(last, at.key), last.id)))


def _typed(column: InstrumentedAttribute[datetime], value: datetime) -> Any:
    """A bind parameter with the column's type, so SQLite gets the stored text format."""
    return literal(value, column.type)


def given(
    *filters: tuple[Any, Callable[[Any], ColumnElement[bool]]],
) -> list[ColumnElement[bool]]:
    """The clauses of the filters whose value was given (not None): `(value, Column.__eq__)`."""
    return [clause(value) for value, clause in filters if value is not None]
