"""What ops staff do through the API: list and inspect obligations, close and snooze them,
and read the call log."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.courtesy.closing import queue_close_text
from app.courtesy.overdue import most_overdue_first, not_overdue_at
from app.courtesy.policy import Courtesy
from app.errors import InvalidInput, NotFound
from app.models import (
    Call,
    CloseReason,
    Obligation,
    ObligationEvent,
    ObligationStatus,
    Voicemail,
)
from app.obligations.service import close, locked, snooze
from app.paging import Page, given, newest_first

LONGEST_SNOOZE = timedelta(days=365)
# The two listings' keysets: the cursor's kind and the (time, id) columns they page by.
_newest_obligations = partial(
    newest_first, kind="obligations", at=Obligation.opened_at, id=Obligation.id
)
_newest_calls = partial(newest_first, kind="calls", at=Call.started_at, id=Call.id)


@dataclass(frozen=True)
class ObligationFilter:
    """The filters of the obligation listing; bounds on `opened_at` are exclusive."""

    status: ObligationStatus | None = None
    recruiter_id: int | None = None
    caller: str | None = None
    opened_after: datetime | None = None
    opened_before: datetime | None = None
    overdue: bool | None = None  # past `promised_by` at `at` and still open (app/courtesy)
    at: datetime | None = None

    def clauses(self) -> list[ColumnElement[bool]]:
        """The WHERE clauses of the filters given."""
        return given(
            (self.status, Obligation.status.__eq__),
            (self.recruiter_id, Obligation.recruiter_id.__eq__),
            (self.caller, Obligation.caller.__eq__),
            (self.opened_after, Obligation.opened_at.__gt__),
            (self.opened_before, Obligation.opened_at.__lt__),
        )


@dataclass(frozen=True)
class ObligationView:
    """An obligation with its voicemails, and its timeline when asked for."""

    obligation: Obligation
    voicemails: Sequence[Voicemail]
    events: Sequence[ObligationEvent] = ()


async def list_obligations(
    session: AsyncSession, *, where: ObligationFilter, cursor: str | None, limit: int
) -> Page[ObligationView]:
    """A page of obligations with their voicemails, in `obligations_page`'s order."""
    page = await obligations_page(session, where=where, cursor=cursor, limit=limit)
    return await _with_voicemails(session, page)


async def obligations_page(
    session: AsyncSession, *, where: ObligationFilter, cursor: str | None, limit: int
) -> Page[Obligation]:
    """A page of the listing (and the export): longest overdue first for `overdue=true`,
    else newest opened first."""
    statement = select(Obligation).where(*where.clauses())
    if where.overdue is not None and where.at is not None:
        if where.overdue:
            return await most_overdue_first(
                session, statement, now=where.at, cursor=cursor, limit=limit
            )
        statement = statement.where(not_overdue_at(where.at))
    return await _newest_obligations(session, statement, cursor=cursor, limit=limit)


async def _with_voicemails(session: AsyncSession, page: Page[Obligation]) -> Page[ObligationView]:
    voicemails = await _voicemails(session, [o.id for o in page.items])
    views = [ObligationView(o, voicemails.get(o.id, [])) for o in page.items]
    return Page(views, page.next_cursor)


async def obligation_detail(session: AsyncSession, obligation_id: int) -> ObligationView:
    """One obligation with its voicemails and its whole timeline, oldest first."""
    obligation = await session.get(Obligation, obligation_id, populate_existing=True)
    if obligation is None:
        raise NotFound(f"obligation {obligation_id} does not exist")
    events = (
        await session.scalars(
            select(ObligationEvent)
            .where(ObligationEvent.obligation_id == obligation_id)
            .order_by(ObligationEvent.at, ObligationEvent.id)
        )
    ).all()
    voicemails = await _voicemails(session, [obligation_id])
    return ObligationView(obligation, voicemails.get(obligation_id, []), events)


async def close_by_ops(
    session: AsyncSession,
    *,
    obligation_id: int,
    actor: str,
    at: datetime,
    note: str | None,
    notify_caller: Courtesy | None = None,
) -> ObligationView:
    """Close with reason `ops`; an obligation closed already is left as it is. With
    `notify_caller`, the caller is told their message was picked up."""
    obligation = await locked(session, obligation_id)
    detail = {"note": note} if note else None
    closed = await close(
        session, obligation=obligation, reason=CloseReason.OPS, actor=actor, at=at, detail=detail
    )
    if closed and notify_caller is not None:
        await queue_close_text(session, obligation=obligation, courtesy=notify_caller, at=at)
    return await obligation_detail(session, obligation_id)


async def snooze_by_ops(
    session: AsyncSession,
    *,
    obligation_id: int,
    actor: str,
    at: datetime,
    until: datetime | timedelta,
) -> ObligationView:
    """Hold nudges until a time, or for a duration from `at`; Conflict if it is closed."""
    obligation = await locked(session, obligation_id)
    if isinstance(until, datetime):
        field, wait = "until", until - at
    else:
        field, wait = "duration", until
    if wait <= timedelta(0):
        raise InvalidInput(f"{field} must be in the future", field=field)
    if wait > LONGEST_SNOOZE:
        raise InvalidInput(f"{field} must be at most {LONGEST_SNOOZE.days} days away", field=field)
    end = at + wait
    await snooze(session, obligation=obligation, until=end, actor=actor, at=at)
    return await obligation_detail(session, obligation_id)


@dataclass(frozen=True)
class CallFilter:
    recruiter_id: int | None = None
    obligation_id: int | None = None

    def clauses(self) -> list[ColumnElement[bool]]:
        """The WHERE clauses of the filters given."""
        return given(
            (self.recruiter_id, Call.recruiter_id.__eq__),
            (self.obligation_id, Call.obligation_id.__eq__),
        )


async def list_calls(
    session: AsyncSession, *, where: CallFilter, cursor: str | None, limit: int
) -> Page[Call]:
    """A page of the call log, newest first."""
    statement = select(Call).where(*where.clauses())
    return await _newest_calls(session, statement, cursor=cursor, limit=limit)


async def _voicemails(
    session: AsyncSession, obligation_ids: Sequence[int]
) -> dict[int, list[Voicemail]]:
    if not obligation_ids:
        return {}
    rows = await session.scalars(
        select(Voicemail)
        .where(Voicemail.obligation_id.in_(obligation_ids))
        .order_by(Voicemail.created_at, Voicemail.id)
    )
    grouped: dict[int, list[Voicemail]] = defaultdict(list)
    for voicemail in rows:
        if voicemail.obligation_id is not None:
            grouped[voicemail.obligation_id].append(voicemail)
    return grouped
