"""What the board and the obligation page read: obligations with their recruiter and voicemail."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.hours import zone
from app.models import Call, Obligation, ObligationStatus, Recruiter, Voicemail
from app.obligations import queries as ops
from app.paging import Page, newest_first, oldest_first

PAGE_SIZE = 50
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


async def board_page(
    session: AsyncSession,
    *,
    where: BoardFilter,
    recruiters: dict[int, Recruiter],
    cursor: str | None,
) -> Page[BoardRow]:
    """Open obligations oldest first (closed ones newest first), with what the board shows."""
    statement = select(Obligation).where(Obligation.status == where.status)
    if where.recruiter_id is not None:
        statement = statement.where(Obligation.recruiter_id == where.recruiter_id)
    listing = oldest_first if where.status is ObligationStatus.OPEN else newest_first
    found = await listing(
        session,
        statement,
        kind=f"board-{where.status.value}",
        at=Obligation.opened_at,
        id=Obligation.id,
        cursor=cursor,
        limit=PAGE_SIZE,
    )
    transcripts = await latest_transcripts(session, [o.id for o in found.items])
    rows = [BoardRow(o, recruiters[o.recruiter_id], transcripts.get(o.id)) for o in found.items]
    return Page(rows, found.next_cursor)


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
