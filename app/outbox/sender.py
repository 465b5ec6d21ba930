"""Sending the outbox: claim, commit, send, record — never a transaction across a Twilio call.

429, 5xx and network errors come back after an exponential backoff with jitter; a permanent
refusal fails the item and raises flags. Every attempt after the first, and every item a
crashed worker left `sending`, first looks for what an earlier attempt may have made at
Twilio, so nothing is sent twice.
"""

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass
from datetime import timedelta
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.clock import Clock
from app.courtesy.policy import CallerHours
from app.db import begin_read_only, unit_of_work
from app.outbox.claims import Claimed, claim_due, fenced, release
from app.outbox.outcomes import (
    Outcome,
    count,
    outcome_of,
    record_cancelled,
    record_failure,
    record_sent,
)
from app.outbox.outcomes import backoff as backoff
from app.outbox.service import sid_holders
from app.passes import Stopping
from app.twilio.outbound import Outgoing, SendError, Transport

log = logging.getLogger(__name__)
T = TypeVar("T")

# Longer than any one send can take (the REST client times out after 15 s): an item claimed
# longer ago than this belongs to a worker that died.
SENDING_LEASE = timedelta(minutes=2)
# A send starts only while this much of its lease is left, so it ends before another worker
# may take the item over (a batch's earlier sends can eat into a claim's lease).
LEASE_MARGIN = timedelta(seconds=30)
IN_FLIGHT = 6  # concurrent sends per worker (the default thread pool's size on 2 cores)
_RECORD_TRIES = 3


@dataclass
class OutboxSender:
    """Sends due outbox items for one worker."""

    sessions: async_sessionmaker[AsyncSession]
    _: KW_ONLY
    transport: Transport
    clock: Clock
    max_backoff: timedelta
    name: str
    caller_hours: CallerHours | None = None

    async def send_due(self, stopping: Stopping) -> int:
        """Send what is due, crashed workers' items first; how many were sent. When one queue
        fails, the other is still served, and the failure is raised after."""
        sent, failures = 0, []
        for stale in (True, False):
            try:
                sent += await self._drain(stale=stale, stopping=stopping)
            except Exception as exc:  # the pending queue must not starve behind a stale item
                failures.append(exc)
        if failures:
            raise failures[0]
        return sent

    async def _drain(self, *, stale: bool, stopping: Stopping) -> int:
        sent, full = 0, True
        while full and not stopping():
            async with unit_of_work(self.sessions) as session:
                now = self.clock.now()
                stale_before = now - SENDING_LEASE if stale else None
                batch, full = await claim_due(
                    session,
                    now=now,
                    name=self.name,
                    stale_before=stale_before,
                    caller_hours=self.caller_hours,
                )
            sent += await self._send_batch(batch, stopping)
        return sent

    async def _send_batch(self, batch: list[Claimed], stopping: Stopping) -> int:
        """Recover what in-doubt items made before, send the rest a few at a time (Twilio
        answers slower than we ask), then record every outcome. Once stopping, or once a
        claim nears the end of its lease, an item goes back unsent."""
        outcomes = await self._look_up([claimed for claimed in batch if claimed.in_doubt])
        for claimed in batch:
            if claimed.moot and claimed.item.id not in outcomes:
                outcomes[claimed.item.id] = Outcome(claimed, cancelled=True)
        gate = asyncio.Semaphore(IN_FLIGHT)
        unsent: list[Claimed] = []

        async def attempt(claimed: Claimed) -> None:
            async with gate:
                if stopping() or self._lease_ending(claimed):
                    unsent.append(claimed)
                    return
                sid = await self._in_thread(self.transport.send, claimed)
                outcomes[claimed.item.id] = outcome_of(claimed, sid)

        await asyncio.gather(*(attempt(c) for c in batch if c.item.id not in outcomes))
        if unsent:
            async with unit_of_work(self.sessions) as session:
                await release(session, unsent, self.name)
        recorded = await self._record(list(outcomes.values()))
        return sum(1 for outcome in recorded if outcome.error is None and not outcome.cancelled)

    def _lease_ending(self, claimed: Claimed) -> bool:
        """Too late to start: the answer could come after another worker took the item over."""
        return self.clock.now() - claimed.claimed_at > SENDING_LEASE - LEASE_MARGIN

    async def _in_thread(self, action: Callable[[Outgoing], T], claimed: Claimed) -> T | SendError:
        """Run a blocking transport call; any failure comes back as a SendError."""
        try:
            return await asyncio.to_thread(action, claimed.item)
        except SendError as error:
            return error
        except Exception as exc:  # one item's fault must not lose the batch's outcomes
            log.error("outbox item %s: unexpected %s", claimed.item.id, type(exc).__name__)
            return SendError(f"unexpected {type(exc).__name__}")

    async def _look_up(self, in_doubt: list[Claimed]) -> dict[int, Outcome]:
        """The outcomes of in-doubt items whose earlier attempt Twilio holds, or whose look-up
        failed. A SID goes to one item at most: never one another outbox row holds, nor one
        an item claimed before it in this batch took."""
        if not in_doubt:
            return {}
        gate = asyncio.Semaphore(IN_FLIGHT)

        async def find(claimed: Claimed) -> list[str] | SendError:
            async with gate:
                return await self._in_thread(self.transport.find, claimed)

        found = await asyncio.gather(*map(find, in_doubt))
        holders = await self._holders(
            [sid for sids in found if isinstance(sids, list) for sid in sids]
        )
        outcomes: dict[int, Outcome] = {}
        for claimed, sids in zip(in_doubt, found, strict=True):
            mine = claimed.item.id
            if isinstance(sids, SendError):
                outcomes[mine] = Outcome(claimed, error=sids)
            elif (sid := next((s for s in sids if holders.get(s, mine) == mine), None)) is not None:
                holders[sid] = mine
                outcomes[mine] = Outcome(claimed, sid, recovered=True)
        return outcomes

    async def _holders(self, sids: list[str]) -> dict[str, int]:
        if not sids:
            return {}
        async with self.sessions() as session:
            await begin_read_only(session)
            return await sid_holders(session, sids)

    async def _record(self, outcomes: Sequence[Outcome]) -> list[Outcome]:
        """Record a batch's outcomes in one transaction, then count them; the outcomes as
        recorded (a found SID that another row holds turns into a retry).

        SIDs are checked against other rows before they are written, so no row's clash rolls
        back the others'. A concurrent writer that takes one in between fails the transaction;
        the next try sees its row.
        """
        for tries_left in reversed(range(_RECORD_TRIES)):
            try:
                recorded = await self._record_once(outcomes)
                break
            except IntegrityError:
                if not tries_left:
                    raise
                log.warning("a Twilio SID was taken while recording; recording again")
        for outcome in recorded:
            count(outcome)
        return recorded

    async def _record_once(self, outcomes: Sequence[Outcome]) -> list[Outcome]:
        if not outcomes:
            return []
        recorded = []
        async with unit_of_work(self.sessions) as session:
            items = await fenced(session, [outcome.claimed for outcome in outcomes], self.name)
            holders = await sid_holders(session, (o.sid for o in outcomes if o.sid is not None))
            now = self.clock.now()
            for outcome in outcomes:
                item = items.get(outcome.claimed.item.id)
                if item is not None and outcome.cancelled:
                    record_cancelled(item, now)
                elif item is not None and outcome.error is None:
                    outcome = await record_sent(
                        session, item=item, outcome=outcome, holders=holders, now=now
                    )
                if item is not None and outcome.error is not None:
                    await record_failure(
                        session, item=item, error=outcome.error, now=now, cap=self.max_backoff
                    )
                recorded.append(outcome)
        return recorded
