"""What the board and the obligation page read: obligations with their recruiter and voicemail."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.courtesy.overdue import not_overdue_at, overdue_at
from app.courtesy.views import is_overdue
from app.errors import InvalidInput
from app.hours import zone
from app.models import Call, Obligation, ObligationStatus, Recruiter, Voicemail
from app.obligations import queries as ops
from app.paging import Page, Position, decode_cursor, encode_cursor, newest_first, oldest_first

PAGE_SIZE = 50
BOARD_OVERDUE, BOARD_REST = "board-overdue", "board-open"
_BEFORE_ALL = Position(datetime(1970, 1, 1, tzinfo=UTC), 0)  # the rest from their start
SNOOZES = {"1h": timedelta(hours=1), "4h": timedelta(hours=4)}
MORNING = time(9, 0)


@dataclass(frozen=True)
class BoardFilter:
    status: ObligationStatus = ObligationStatus.OPEN
    recruiter_id: int | None = None


@dataclass(frozen=True)
class BoardRow:
    obligation: Obligation
    recruiter: Recruiter
    transcript: str | None
    overdue: bool = False  # open past its promise (app/courtesy/views.py)


async def board_page(
    session: AsyncSession,
    *,
    where: BoardFilter,
    recruiters: dict[int, Recruiter],
    now: datetime,
    cursor: str | None,
) -> Page[BoardRow]:
    """Open obligations overdue first, then oldest first (closed ones newest first), with
    what the board shows."""
    statement = select(Obligation)
    if where.recruiter_id is not None:
        statement = statement.where(Obligation.recruiter_id == where.recruiter_id)
    if where.status is ObligationStatus.OPEN:
        found = await open_page(session, statement, now=now, cursor=cursor)
    else:
        found = await newest_first(
            session,
            statement.where(Obligation.status == where.status),
            kind="board-closed",
            at=Obligation.opened_at,
            id=Obligation.id,
            cursor=cursor,
            limit=PAGE_SIZE,
        )
    transcripts = await latest_transcripts(session, [o.id for o in found.items])
    rows = [
        BoardRow(o, recruiters[o.recruiter_id], transcripts.get(o.id), is_overdue(o, now))
        for o in found.items
    ]
    return Page(rows, found.next_cursor)


async def open_page(
    session: AsyncSession, statement: Select[Any], *, now: datetime, cursor: str | None
) -> Page[Obligation]:
    """One page of open obligations: the overdue ones longest overdue first (keyset on
    promised_by, the partial index on open rows), then the rest oldest first (keyset on
    opened_at). The cursor's kind says which of the two it continues."""
    overdue: Sequence[Obligation] = ()
    if _continues_overdue(cursor):
        found = await oldest_first(
            session,
            statement.where(*overdue_at(now)),
            kind=BOARD_OVERDUE,
            at=Obligation.promised_by,  # type: ignore[arg-type]
            id=Obligation.id,
            cursor=cursor,
            limit=PAGE_SIZE,
        )
        if found.next_cursor is not None:
            return found
        overdue, cursor = found.items, None
    rest = statement.where(Obligation.status == ObligationStatus.OPEN, not_overdue_at(now))
    room = PAGE_SIZE - len(overdue)
    if room == 0:  # the overdue ones filled this page exactly: the rest start on the next
        more = await session.scalar(rest.with_only_columns(Obligation.id).limit(1))
        return Page(overdue, None if more is None else encode_cursor(BOARD_REST, _BEFORE_ALL))
    found = await oldest_first(
        session,
        rest,
        kind=BOARD_REST,
        at=Obligation.opened_at,
        id=Obligation.id,
        cursor=cursor,
        limit=room,
    )
    return Page([*overdue, *found.items], found.next_cursor)


def _continues_overdue(cursor: str | None) -> bool:
    """Whether `cursor` (None: the first page) is in the overdue part of the open board."""
    if cursor is None:
        return True
    try:
        decode_cursor(BOARD_OVERDUE, cursor)
    except InvalidInput:
        return False  # the rest's cursor, or one the rest's keyset refuses with a 422
    return True


async def latest_transcripts(
    session: AsyncSession, obligation_ids: Sequence[int]
) -> dict[int, str]:
    """The newest voicemail transcript of each obligation that has one."""
    if not obligation_ids:
        return {}
    rows = await session.execute(
        select(Voicemail.obligation_id, Voicemail.transcript)
        .where(Voicemail.obligation_id.in_(obligation_ids), Voicemail.transcript.is_not(None))
        .order_by(Voicemail.created_at, Voicemail.id)
    )
    return {row[0]: row[1] for row in rows if row[0] is not None and row[1] is not None}


async def recruiters_by_id(session: AsyncSession) -> dict[int, Recruiter]:
    """Every recruiter, deactivated ones too (their obligations stay listed)."""
    rows = await session.scalars(select(Recruiter).order_by(Recruiter.name, Recruiter.id))
    return {recruiter.id: recruiter for recruiter in rows}


async def call_log(session: AsyncSession, obligation_id: int) -> Page[Call]:
    """The newest call-log rows of one obligation."""
    where = ops.CallFilter(obligation_id=obligation_id)
    return await ops.list_calls(session, where=where, cursor=None, limit=PAGE_SIZE)


def tomorrow_morning(now: datetime, timezone: str) -> datetime:
    """09:00 tomorrow in the recruiter's time zone."""
    local = now.astimezone(zone(timezone))
    return datetime.combine(local.date() + timedelta(days=1), MORNING, tzinfo=local.tzinfo)


async def voicemail(session: AsyncSession, voicemail_id: int) -> Voicemail | None:
    return await session.get(Voicemail, voicemail_id)
