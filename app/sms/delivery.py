"""What became of an SMS: Twilio's delivery reports, and the flags a permanent failure raises."""

import logging
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.courtesy.outcomes import caller_failure, is_caller_sms
from app.metrics import NUDGES
from app.models import Obligation, OutboxItem, OutboxKind, OutboxObligation, OutboxStatus, Recruiter
from app.obligations.timeline import TWILIO, EventKind, add_events
from app.outbox.service import take_sid
from app.reminders.queue import REMINDER_PURPOSES

log = logging.getLogger(__name__)

# Twilio's message statuses, in the outbox's words.
_REPORTED = {
    "queued": OutboxStatus.SENT,
    "accepted": OutboxStatus.SENT,
    "scheduled": OutboxStatus.SENT,
    "sending": OutboxStatus.SENT,
    "sent": OutboxStatus.SENT,
    "delivered": OutboxStatus.DELIVERED,
    "read": OutboxStatus.DELIVERED,
    "undelivered": OutboxStatus.UNDELIVERED,
    "failed": OutboxStatus.FAILED,
    "canceled": OutboxStatus.FAILED,
}
# Reports arrive out of order; a row only ever moves up this ladder.
_RANK = {
    OutboxStatus.PENDING: 0,
    OutboxStatus.SENDING: 0,
    OutboxStatus.SENT: 1,
    OutboxStatus.UNDELIVERED: 2,
    OutboxStatus.FAILED: 2,
    OutboxStatus.DELIVERED: 3,
    OutboxStatus.CANCELLED: 3,
}
# Delivery errors that mean the recipient will not get SMS until someone acts: STOP (21610),
# a number that is not a mobile or does not exist (21211, 21614, 30005, 30006), blocked (30004).
PERMANENT_DELIVERY_CODES = frozenset({21610, 21211, 21614, 30004, 30005, 30006})
UNSUBSCRIBED = 21610


async def record_delivery(
    session: AsyncSession,
    *,
    outbox_id: int | None,
    message_sid: str,
    status: str,
    error_code: int | None,
    at: datetime,
) -> OutboxStatus | None:
    """Apply one delivery report to its outbox row; the row's status afterwards, if known."""
    item = await _reported_item(session, outbox_id, message_sid)
    if item is None:
        return None
    reported = _REPORTED.get(status)
    if reported is None or _RANK[reported] <= _RANK[item.status]:
        return item.status
    if item.twilio_sid is None and not await take_sid(session, item=item, sid=message_sid, at=at):
        return item.status
    item.status = reported
    item.sent_at = item.sent_at or at
    item.updated_at = at
    if reported in (OutboxStatus.UNDELIVERED, OutboxStatus.FAILED):
        item.error_code = error_code
        if error_code in PERMANENT_DELIVERY_CODES:
            await flag_failure(session, item=item, code=error_code, at=at, actor=TWILIO)
    if item.purpose in REMINDER_PURPOSES:
        NUDGES.labels(outcome=reported.value).inc()
    return reported


async def _reported_item(
    session: AsyncSession, outbox_id: int | None, message_sid: str
) -> OutboxItem | None:
    where = (
        OutboxItem.id == outbox_id
        if outbox_id is not None
        else OutboxItem.twilio_sid == message_sid
    )
    item = (
        await session.scalars(
            select(OutboxItem).where(where, OutboxItem.kind == OutboxKind.SMS).with_for_update()
        )
    ).one_or_none()
    if item is None:
        log.info("delivery report for unknown outbox item %s (%s)", outbox_id, message_sid)
        return None
    if item.twilio_sid not in (None, message_sid):
        log.warning("delivery report for outbox item %s names another message", item.id)
        return None
    return item


async def flag_failure(
    session: AsyncSession, *, item: OutboxItem, code: int | None, at: datetime, actor: str
) -> None:
    """A message failed for good: show it on its obligations and, if it was for the
    recruiter's own mobile, on the recruiter (who may have texted STOP)."""
    if is_caller_sms(item.purpose):  # to a caller: app/courtesy marks it
        await caller_failure(session, item=item, code=code, at=at, actor=actor)
        return
    # The recruiter's row first, then the obligations': the order the worker's nudge pass
    # locks them in. The opposite order can deadlock with it on PostgreSQL.
    recruiter = await _recruiter_at(session, item)
    if recruiter is not None:
        recruiter.sms_blocked_at = recruiter.sms_blocked_at or at
        recruiter.sms_error_code = code
        recruiter.updated_at = at
    obligation_ids = await linked_obligations(session, item.id)
    if obligation_ids:
        await session.execute(
            update(Obligation)
            .where(Obligation.id.in_(obligation_ids))
            .values(sms_error_code=code, updated_at=at)
        )
    await add_events(
        session,
        obligation_ids=obligation_ids,
        at=at,
        kind=EventKind.NUDGE_FAILED,
        actor=actor,
        detail={"outbox_id": item.id, "purpose": item.purpose, "code": code},
    )


async def clear_flags(
    session: AsyncSession, *, outbox_id: int, recruiter_id: int, to_number: str, at: datetime
) -> None:
    """Twilio took an SMS for the recruiter's mobile again: whatever blocked it is gone."""
    cleared = await session.scalar(
        update(Recruiter)
        .where(Recruiter.id == recruiter_id, Recruiter.mobile == to_number)
        .values(sms_blocked_at=None, sms_error_code=None, updated_at=at)
        .returning(Recruiter.id)
    )
    if cleared is not None:
        await session.execute(
            update(Obligation)
            .where(Obligation.id.in_(await linked_obligations(session, outbox_id)))
            .values(sms_error_code=None, updated_at=at)
        )


def opted_out(recruiter: Recruiter, *, at: datetime) -> None:
    """The recruiter texted STOP to a line: Twilio refuses SMS to them until they text START."""
    recruiter.sms_blocked_at = recruiter.sms_blocked_at or at
    recruiter.sms_error_code = UNSUBSCRIBED
    recruiter.updated_at = at


async def opted_in(session: AsyncSession, *, recruiter: Recruiter, at: datetime) -> None:
    """The recruiter texted START from their mobile: it takes SMS again, so its flags go."""
    recruiter.sms_blocked_at, recruiter.sms_error_code = None, None
    recruiter.updated_at = at
    await session.flush()  # the recruiter's row before the obligations', as the worker does
    await session.execute(
        update(Obligation)
        .where(
            Obligation.recruiter_id == recruiter.id,
            Obligation.sms_error_code == UNSUBSCRIBED,
        )
        .values(sms_error_code=None, updated_at=at)
    )


async def linked_obligations(session: AsyncSession, outbox_id: int) -> list[int]:
    """The obligations an outbox item speaks about."""
    rows = await session.scalars(
        select(OutboxObligation.obligation_id)
        .where(OutboxObligation.outbox_id == outbox_id)
        .order_by(OutboxObligation.obligation_id)
    )
    return list(rows)


async def _recruiter_at(session: AsyncSession, item: OutboxItem) -> Recruiter | None:
    """The item's recruiter, locked, when the item was an SMS to their own mobile."""
    if item.kind is not OutboxKind.SMS or item.recruiter_id is None:
        return None
    statement = (
        select(Recruiter)
        .where(Recruiter.id == item.recruiter_id, Recruiter.mobile == item.to_number)
        .with_for_update(key_share=True)  # as the nudge pass locks it
    )
    return (await session.scalars(statement)).one_or_none()
