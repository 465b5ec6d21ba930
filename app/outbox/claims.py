"""Claiming outbox items to send (due ones, or those a crashed worker left `sending`), and
handing claims back or checking they are still this worker's.

A reminder whose obligations have all closed (or, for nudges and digests, are all snoozed)
since it was queued is moot: cancelled if never tried, else sent only if Twilio turns out to
hold an earlier attempt's message. One whose recruiter is outside working hours waits for
the next working period, its attempts untouched (it may have been queued in hours and
retried, or left in the outbox overnight).
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.courtesy.outcomes import is_caller_sms, moot_caller_texts
from app.courtesy.policy import CallerHours
from app.hours import WorkingHours
from app.metrics import NUDGES
from app.models import (
    Obligation,
    ObligationStatus,
    OutboxItem,
    OutboxObligation,
    OutboxStatus,
    Recruiter,
)
from app.outbox.service import UNCLAIMED
from app.reminders.queue import HELD_BY_SNOOZE, REMINDER_PURPOSES
from app.twilio.outbound import Outgoing

log = logging.getLogger(__name__)
BATCH = 20


@dataclass(frozen=True)
class Claimed:
    """An item this worker claimed, and the attempt number that claim made it."""

    item: Outgoing
    purpose: str
    attempt: int
    claimed_at: datetime
    recruiter_id: int | None
    recruiter_flagged: bool  # an earlier SMS to the recruiter failed for good
    moot: bool = False  # a reminder no longer wanted: only an earlier attempt's may stand

    @property
    def in_doubt(self) -> bool:
        """An earlier attempt may have reached Twilio."""
        return self.attempt > 1


@dataclass(frozen=True)
class _Recipient:
    """What a claim needs to know about an item's recruiter."""

    hours: WorkingHours
    flagged: bool


async def claim_due(
    session: AsyncSession,
    *,
    now: datetime,
    name: str,
    stale_before: datetime | None = None,
    caller_hours: CallerHours | None = None,
) -> tuple[list[Claimed], bool]:
    """Claim a batch of due items (SKIP LOCKED), or of items claimed before `stale_before` and
    never recorded; whether the batch was full. SMS to callers wait for `caller_hours`."""
    items = (
        await session.scalars(
            _due(now, stale_before).limit(BATCH).with_for_update(skip_locked=True)
        )
    ).all()
    moot = await _moot(session, items, now)
    recipients = await _recipients(session, items)
    claimed = []
    for item in items:
        item.updated_at = now
        recipient = recipients.get(item.recruiter_id) if item.recruiter_id is not None else None
        if item.id in moot and item.attempts == 0:
            item.status = OutboxStatus.CANCELLED
            NUDGES.labels(outcome="cancelled").inc()
        elif (opens := _opens(item, recipient, now, caller_hours)) > now:
            item.status, item.next_attempt_at = OutboxStatus.PENDING, opens
            item.claimed_at, item.claimed_by = None, None
            NUDGES.labels(outcome="deferred").inc()
        else:
            claimed.append(_claim(item, now, name, recipient, moot=item.id in moot))
    return claimed, len(items) == BATCH


async def fenced(
    session: AsyncSession, batch: Sequence[Claimed], name: str
) -> dict[int, OutboxItem]:
    """The claimed items, locked, but for any another worker claimed since (the claim outlived
    its lease)."""
    attempts = {claimed.item.id: claimed.attempt for claimed in batch}
    items = await session.scalars(
        select(OutboxItem)
        .where(OutboxItem.id.in_(attempts))
        .order_by(OutboxItem.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    mine = {}
    for item in items:
        if item.attempts != attempts[item.id] or item.claimed_by != name:
            log.warning("outbox item %s was taken over by another worker", item.id)
            continue
        mine[item.id] = item
    return mine


async def release(session: AsyncSession, batch: Sequence[Claimed], name: str) -> None:
    """Hand claimed but unsent items back, as if never claimed."""
    await session.execute(
        update(OutboxItem)
        .where(
            OutboxItem.id.in_([claimed.item.id for claimed in batch]),
            OutboxItem.status == OutboxStatus.SENDING,
            OutboxItem.claimed_by == name,
        )
        .values(attempts=OutboxItem.attempts - 1, **UNCLAIMED)
    )


def _claim(
    item: OutboxItem, now: datetime, name: str, recipient: _Recipient | None, *, moot: bool
) -> Claimed:
    item.status = OutboxStatus.SENDING
    item.claimed_at, item.claimed_by = now, name
    item.attempts += 1
    return Claimed(
        _outgoing(item),
        item.purpose,
        item.attempts,
        now,
        item.recruiter_id,
        recipient is not None and recipient.flagged,
        moot,
    )


def _due(now: datetime, stale_before: datetime | None) -> Select[OutboxItem]:
    if stale_before is not None:
        return (
            select(OutboxItem)
            .where(OutboxItem.status == OutboxStatus.SENDING, OutboxItem.claimed_at < stale_before)
            .order_by(OutboxItem.claimed_at, OutboxItem.id)
        )
    return (
        select(OutboxItem)
        .where(OutboxItem.status == OutboxStatus.PENDING, OutboxItem.next_attempt_at <= now)
        .order_by(OutboxItem.next_attempt_at, OutboxItem.id)
    )


def _opens(
    item: OutboxItem,
    recipient: _Recipient | None,
    now: datetime,
    caller_hours: CallerHours | None = None,
) -> datetime:
    """When the item may go: now, or for a reminder the start of its recruiter's next working
    period (reminders never go outside the recruiter's working hours), or for an SMS to a
    caller the next caller hours in the recruiter's zone."""
    if is_caller_sms(item.purpose) and caller_hours is not None and recipient is not None:
        return caller_hours.in_zone(recipient.hours.tz.key).next_open(now)
    if item.purpose not in REMINDER_PURPOSES or recipient is None:
        return now
    return recipient.hours.next_open(now)


def _outgoing(item: OutboxItem) -> Outgoing:
    return Outgoing(
        item.id, item.kind, item.to_number, item.from_number, item.body, item.created_at
    )


async def _moot(session: AsyncSession, items: Sequence[OutboxItem], now: datetime) -> set[int]:
    """Reminders whose obligations have all closed, or (nudges and digests) are all snoozed
    at `now`, since they were queued; and text-backs to callers that are moot."""
    moot_texts = await moot_caller_texts(session, items, now)
    ids = [i.id for i in items if i.purpose in REMINDER_PURPOSES]
    if not ids:
        return moot_texts
    held = {i.id for i in items if i.purpose in HELD_BY_SNOOZE}
    rows = await session.execute(
        select(OutboxObligation.outbox_id, Obligation.status, Obligation.snoozed_until)
        .join(Obligation, Obligation.id == OutboxObligation.obligation_id)
        .where(OutboxObligation.outbox_id.in_(ids))
    )
    linked, wanted = set(), set()
    for outbox_id, status, snoozed_until in rows:
        linked.add(outbox_id)
        snoozed = snoozed_until is not None and snoozed_until > now
        if status is ObligationStatus.OPEN and not (outbox_id in held and snoozed):
            wanted.add(outbox_id)
    return (linked - wanted) | moot_texts


async def _recipients(session: AsyncSession, items: Sequence[OutboxItem]) -> dict[int, _Recipient]:
    """The items' recruiters: their working hours, and whether an SMS to them failed for good
    before (to clear after a success)."""
    ids = {i.recruiter_id for i in items if i.recruiter_id is not None}
    if not ids:
        return {}
    rows = await session.execute(
        select(
            Recruiter.id,
            Recruiter.timezone,
            Recruiter.working_hours,
            Recruiter.sms_blocked_at,
            Recruiter.sms_error_code,
        ).where(Recruiter.id.in_(ids))
    )
    return {
        row.id: _Recipient(
            WorkingHours.of(row.timezone, row.working_hours),
            row.sms_blocked_at is not None or row.sms_error_code is not None,
        )
        for row in rows
    }
