"""What became of a caller's SMS: sent, refused for good (STOP, landline), or moot at claim
(the obligation closed, or the promise passed, before it could go)."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.courtesy.optouts import LANDLINE, OPTED_OUT, block
from app.courtesy.policy import CALLER_PURPOSES, CALLER_TEXT
from app.models import CallerText, Obligation, ObligationStatus, OutboxItem, OutboxObligation
from app.obligations.timeline import EventKind, add_events

UNSUBSCRIBED = 21610
# Twilio: 21614 "not a mobile number" when sending, 30006 "landline or unreachable carrier"
# in the delivery report. Either way that number takes no SMS: marked, never retried.
LANDLINE_CODES = frozenset({21614, 30006})


async def mark_sent(session: AsyncSession, *, item: OutboxItem, at: datetime) -> None:
    """Twilio took a text-back: its obligation says so."""
    if item.purpose == CALLER_TEXT:
        await _set(session, item.id, CallerText.SENT, at, only=CallerText.QUEUED)


async def caller_failure(
    session: AsyncSession, *, item: OutboxItem, code: int | None, at: datetime, actor: str
) -> None:
    """A caller's SMS failed for good: STOP and landlines block the caller on that line; the
    obligation's timeline and `caller_text` say why."""
    reason = CallerText.FAILED
    if code == UNSUBSCRIBED:
        reason = CallerText.OPTED_OUT
    elif code in LANDLINE_CODES:
        reason = CallerText.LANDLINE
    if reason is not CallerText.FAILED and item.from_number is not None:
        blocked_as = OPTED_OUT if reason is CallerText.OPTED_OUT else LANDLINE
        await block(session, line=item.from_number, caller=item.to_number, reason=blocked_as, at=at)
    ids = await _linked(session, item.id)
    if item.purpose == CALLER_TEXT:
        await _set(session, item.id, reason, at)
    await add_events(
        session,
        obligation_ids=ids,
        at=at,
        kind=EventKind.CALLER_TEXT,
        actor=actor,
        detail={"outbox_id": item.id, "purpose": item.purpose, "code": code, "caller_text": reason},
    )


async def moot_caller_texts(
    session: AsyncSession, items: Sequence[OutboxItem], now: datetime
) -> set[int]:
    """Text-backs no longer wanted at claim: the obligation closed, or its promise passed.
    Those never tried are marked cancelled on their obligation."""
    ids = [item.id for item in items if item.purpose == CALLER_TEXT]
    if not ids:
        return set()
    rows = await session.execute(
        select(OutboxObligation.outbox_id, Obligation.status, Obligation.promised_by)
        .join(Obligation, Obligation.id == OutboxObligation.obligation_id)
        .where(OutboxObligation.outbox_id.in_(ids))
    )
    moot = {
        outbox_id
        for outbox_id, status, promised_by in rows
        if status is ObligationStatus.CLOSED or (promised_by is not None and promised_by <= now)
    }
    for item in items:
        if item.id in moot and item.attempts == 0:
            await _set(session, item.id, CallerText.CANCELLED, now, only=CallerText.QUEUED)
    return moot


def is_caller_sms(purpose: str) -> bool:
    return purpose in CALLER_PURPOSES


async def _linked(session: AsyncSession, outbox_id: int) -> list[int]:
    rows = await session.scalars(
        select(OutboxObligation.obligation_id).where(OutboxObligation.outbox_id == outbox_id)
    )
    return list(rows)


async def _set(
    session: AsyncSession,
    outbox_id: int,
    value: CallerText,
    at: datetime,
    only: CallerText | None = None,
) -> None:
    linked = select(OutboxObligation.obligation_id).where(OutboxObligation.outbox_id == outbox_id)
    statement = update(Obligation).where(Obligation.id.in_(linked))
    if only is not None:
        statement = statement.where(Obligation.caller_text == only)
    await session.execute(statement.values(caller_text=value, updated_at=at))
