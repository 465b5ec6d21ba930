"""Sending the outbox: claim, commit, send, record — never a transaction across a Twilio call.

429, 5xx and network errors come back after an exponential backoff with jitter; a permanent
refusal fails the item and raises flags. Every attempt after the first, and every item a
crashed worker left `sending`, first looks for what an earlier attempt may have made at
Twilio, so nothing is sent twice.
"""

import asyncio
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.clock import Clock
from app.db import begin_read_only, unit_of_work
from app.delivery import clear_flags, flag_failure
from app.metrics import NUDGES, OUTBOX_SENDS
from app.models import (
    Obligation,
    ObligationStatus,
    OutboxItem,
    OutboxKind,
    OutboxObligation,
    OutboxStatus,
    Recruiter,
)
from app.obligations import WORKER
from app.reminders import REMINDER_PURPOSES
from app.twilio.outbound import Outgoing, SendError, Transport

log = logging.getLogger(__name__)

# Longer than any one send can take (the REST client times out after 15 s): an item claimed
# longer ago than this belongs to a worker that died.
SENDING_LEASE = timedelta(minutes=2)
_BATCH = 20
IN_FLIGHT = 6  # concurrent sends per worker (the default thread pool's size on 2 cores)


@dataclass(frozen=True)
class Claimed:
    """An item this worker claimed, and the attempt number that claim made it."""

    item: Outgoing
    purpose: str
    attempt: int
    recruiter_id: int | None
    recruiter_flagged: bool  # an earlier SMS to the recruiter failed for good

    @property
    def in_doubt(self) -> bool:
        """An earlier attempt may have reached Twilio."""
        return self.attempt > 1


def backoff(
    attempts: int, cap: timedelta, jitter: Callable[[], float] = random.random
) -> timedelta:
    """About 1 s after the first failure, doubling after each, ±20 % jitter; at most `cap`."""
    seconds = 2.0 ** min(attempts - 1, 32) * (0.8 + 0.4 * jitter())
    return min(cap, timedelta(seconds=seconds))


class OutboxSender:
    """Sends due outbox items for one worker."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        transport: Transport,
        clock: Clock,
        max_backoff: timedelta,
        name: str,
    ) -> None:
        self.sessions = sessions
        self.transport = transport
        self.clock = clock
        self.max_backoff = max_backoff
        self.name = name

    async def send_due(self, stopping: Callable[[], bool]) -> int:
        """Send what is due, crashed workers' items first; how many were sent."""
        sent = 0
        for stale in (True, False):
            full = True
            while full and not stopping():
                batch, full = await self._claim(stale=stale)
                sent += await self._send_batch(batch, stopping)
        return sent

    async def _claim(self, *, stale: bool) -> tuple[list[Claimed], bool]:
        """Claim a batch (SKIP LOCKED); whether the batch was full."""
        async with unit_of_work(self.sessions) as session:
            now = self.clock.now()
            if stale:
                where = [
                    OutboxItem.status == OutboxStatus.SENDING,
                    OutboxItem.claimed_at < now - SENDING_LEASE,
                ]
                order = OutboxItem.claimed_at
            else:
                where = [
                    OutboxItem.status == OutboxStatus.PENDING,
                    OutboxItem.next_attempt_at <= now,
                ]
                order = OutboxItem.next_attempt_at
            items = (
                await session.scalars(
                    select(OutboxItem)
                    .where(*where)
                    .order_by(order, OutboxItem.id)
                    .limit(_BATCH)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            unneeded = await _unneeded(session, items)
            flagged = await _flagged_recruiters(session, items)
            claimed = []
            for item in items:
                item.updated_at = now
                if item.id in unneeded:
                    item.status = OutboxStatus.CANCELLED
                    NUDGES.labels(outcome="cancelled").inc()
                    continue
                item.status = OutboxStatus.SENDING
                item.claimed_at, item.claimed_by = now, self.name
                item.attempts += 1
                claimed.append(
                    Claimed(
                        _outgoing(item),
                        item.purpose,
                        item.attempts,
                        item.recruiter_id,
                        item.recruiter_id in flagged,
                    )
                )
            return claimed, len(items) == _BATCH

    async def _send_batch(self, batch: list[Claimed], stopping: Callable[[], bool]) -> int:
        """Send a few at a time (Twilio answers slower than we ask) and record the outcomes
        together; once stopping, finish the items in hand and hand the rest back unsent."""
        gate = asyncio.Semaphore(IN_FLIGHT)
        unsent: list[Claimed] = []

        async def attempt(claimed: Claimed) -> Outcome | None:
            async with gate:
                if stopping():
                    unsent.append(claimed)
                    return None
                return await self._attempt(claimed)

        outcomes = [o for o in await asyncio.gather(*map(attempt, batch)) if o is not None]
        if unsent:
            await self._release(unsent)
        await self._record(outcomes)
        return sum(1 for outcome in outcomes if outcome.error is None)

    async def _attempt(self, claimed: Claimed) -> "Outcome":
        try:
            sid = await self._made_before(claimed)
            if sid is not None:
                return Outcome(claimed, sid, recovered=True)
            return Outcome(claimed, await asyncio.to_thread(self.transport.send, claimed.item))
        except SendError as error:
            return Outcome(claimed, error=error)

    async def _made_before(self, claimed: Claimed) -> str | None:
        """The SID of what an earlier attempt of this item made at Twilio, if it made one."""
        if not claimed.in_doubt:
            return None
        candidates = await asyncio.to_thread(self.transport.find, claimed.item)
        if not candidates:
            return None
        async with self.sessions() as session:
            await begin_read_only(session)
            taken = set(
                await session.scalars(
                    select(OutboxItem.twilio_sid).where(
                        OutboxItem.twilio_sid.in_(candidates), OutboxItem.id != claimed.item.id
                    )
                )
            )
        return next((sid for sid in candidates if sid not in taken), None)

    async def _record(self, outcomes: Sequence["Outcome"]) -> None:
        """Record a batch's outcomes in one transaction, then count them."""
        if not outcomes:
            return
        async with unit_of_work(self.sessions) as session:
            items = await self._fenced(session, [outcome.claimed for outcome in outcomes])
            now = self.clock.now()
            for outcome in outcomes:
                item = items.get(outcome.claimed.item.id)
                if item is None:
                    continue
                if outcome.error is None:
                    await self._record_sent(session, item, outcome, now)
                else:
                    await self._record_failure(session, item, outcome.error, now)
        for outcome in outcomes:
            _count(outcome)

    async def _record_sent(
        self, session: AsyncSession, item: OutboxItem, outcome: "Outcome", now: datetime
    ) -> None:
        claimed = outcome.claimed
        item.twilio_sid = item.twilio_sid or outcome.sid
        item.sent_at = item.sent_at or now
        item.updated_at = now
        if item.status is OutboxStatus.SENDING:  # a delivery report may have come first
            item.status = OutboxStatus.SENT
            item.error_code, item.error_message = None, None
        if (
            claimed.recruiter_flagged
            and claimed.recruiter_id is not None
            and claimed.item.kind is OutboxKind.SMS
            and item.status in (OutboxStatus.SENT, OutboxStatus.DELIVERED)
        ):
            await clear_flags(
                session,
                outbox_id=item.id,
                recruiter_id=claimed.recruiter_id,
                to_number=item.to_number,
                at=now,
            )

    async def _record_failure(
        self, session: AsyncSession, item: OutboxItem, error: SendError, now: datetime
    ) -> None:
        if item.status is not OutboxStatus.SENDING:
            return
        item.error_code, item.error_message = error.code, str(error)[:500]
        item.updated_at = now
        if error.permanent:
            item.status = OutboxStatus.FAILED
            if item.kind is OutboxKind.SMS:
                await flag_failure(session, item=item, code=error.code, at=now, actor=WORKER)
        else:
            item.status = OutboxStatus.PENDING
            item.next_attempt_at = now + backoff(item.attempts, self.max_backoff)

    async def _fenced(
        self, session: AsyncSession, batch: Sequence[Claimed]
    ) -> dict[int, OutboxItem]:
        """The items, locked, but for any another worker claimed since (it outlived the lease)."""
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
            if item.attempts != attempts[item.id] or item.claimed_by != self.name:
                log.warning("outbox item %s was taken over by another worker", item.id)
                continue
            mine[item.id] = item
        return mine

    async def _release(self, batch: Sequence[Claimed]) -> None:
        """Hand claimed but unsent items back, as if never claimed."""
        async with unit_of_work(self.sessions) as session:
            await session.execute(
                update(OutboxItem)
                .where(
                    OutboxItem.id.in_([claimed.item.id for claimed in batch]),
                    OutboxItem.status == OutboxStatus.SENDING,
                    OutboxItem.claimed_by == self.name,
                )
                .values(
                    status=OutboxStatus.PENDING,
                    attempts=OutboxItem.attempts - 1,
                    claimed_at=None,
                    claimed_by=None,
                )
            )


@dataclass(frozen=True)
class Outcome:
    """What one attempt at Twilio gave: a SID (new, or found from an earlier attempt) or an
    error."""

    claimed: Claimed
    sid: str | None = None
    recovered: bool = False
    error: SendError | None = None


def _count(outcome: Outcome) -> None:
    kind, reminder = outcome.claimed.item.kind.value, outcome.claimed.purpose in REMINDER_PURPOSES
    if outcome.error is None:
        OUTBOX_SENDS.labels(kind=kind, outcome="recovered" if outcome.recovered else "sent").inc()
        if reminder:
            NUDGES.labels(outcome="sent").inc()
        return
    permanent = outcome.error.permanent
    OUTBOX_SENDS.labels(kind=kind, outcome="failed" if permanent else "retry").inc()
    if permanent and reminder:
        NUDGES.labels(outcome="failed").inc()
    # The code, not Twilio's message: that can quote the phone number.
    log.warning(
        "outbox item %s: error %s (%s)",
        outcome.claimed.item.id,
        outcome.error.code,
        "failed" if permanent else "retry",
    )


def _outgoing(item: OutboxItem) -> Outgoing:
    return Outgoing(
        id=item.id,
        kind=item.kind,
        to_number=item.to_number,
        from_number=item.from_number,
        body=item.body,
        created_at=item.created_at,
    )


async def _unneeded(session: AsyncSession, items: Sequence[OutboxItem]) -> set[int]:
    """Reminders never tried whose obligations have all closed since they were queued."""
    ids = [i.id for i in items if i.purpose in REMINDER_PURPOSES and i.attempts == 0]
    if not ids:
        return set()
    rows = await session.execute(
        select(OutboxObligation.outbox_id, Obligation.status)
        .join(Obligation, Obligation.id == OutboxObligation.obligation_id)
        .where(OutboxObligation.outbox_id.in_(ids))
    )
    linked, still_open = set(), set()
    for outbox_id, status in rows:
        linked.add(outbox_id)
        if status is ObligationStatus.OPEN:
            still_open.add(outbox_id)
    return linked - still_open


async def _flagged_recruiters(session: AsyncSession, items: Sequence[OutboxItem]) -> set[int]:
    """Recruiters of these items whose SMS failed for good before (to clear after a success)."""
    ids = {i.recruiter_id for i in items if i.recruiter_id is not None}
    if not ids:
        return set()
    rows = await session.scalars(
        select(Recruiter.id).where(
            Recruiter.id.in_(ids),
            or_(Recruiter.sms_blocked_at.is_not(None), Recruiter.sms_error_code.is_not(None)),
        )
    )
    return set(rows)
