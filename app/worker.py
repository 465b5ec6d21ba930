"""The reminder worker: every WORKER_POLL_SECONDS it queues due nudges and sends the outbox.

`callpledge worker` runs it alone; `callpledge serve` runs it inside the service. On
SIGTERM or SIGINT it finishes the item in hand, claims nothing more and returns.
"""

import asyncio
import logging
import os
import signal
import socket
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.db import begin_read_only
from app.metrics import OUTBOX_BACKLOG, WORKER_LAG
from app.models import Obligation, OutboxItem, OutboxStatus, Recruiter
from app.reminders import Nudging, due, queue_due_nudges
from app.runtime import Runtime
from app.sender import OutboxSender
from app.twilio.outbound import Transport, transport_for

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pass:
    """What one pass did."""

    queued: int  # SMS put in the outbox for due nudges
    sent: int  # outbox items handed to Twilio (or printed)


class Worker:
    def __init__(
        self, runtime: Runtime, *, transport: Transport | None = None, name: str | None = None
    ) -> None:
        self.runtime = runtime
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.nudging = Nudging.of(runtime.settings)
        self.sender = OutboxSender(
            runtime.sessions,
            transport=transport or transport_for(runtime.settings),
            clock=runtime.clock,
            max_backoff=runtime.settings.retry_max_backoff,
            name=self.name,
        )
        self._stop = asyncio.Event()

    def stop(self) -> None:
        """Finish the item in hand, claim nothing more, and return from `run`."""
        self._stop.set()

    def stopping(self) -> bool:
        return self._stop.is_set()

    async def run_once(self) -> Pass:
        """One pass: queue the due nudges, then send what the outbox has due."""
        await observe(self.runtime.sessions, self.runtime.clock.now())
        try:
            queued = await queue_due_nudges(
                self.runtime.sessions,
                nudging=self.nudging,
                now=self.runtime.clock.now,
                stopping=self.stopping,
            )
        except Exception:  # a failing nudge pass must not keep the outbox from being sent
            await self.sender.send_due(self.stopping)
            raise
        sent = await self.sender.send_due(self.stopping)
        return Pass(queued, sent)

    async def run(self) -> None:
        """Pass after pass, WORKER_POLL_SECONDS apart, until `stop()`."""
        poll = self.runtime.settings.worker_poll_seconds
        log.info("worker %s started", self.name)
        while not self.stopping():
            try:
                await self.run_once()
            except Exception as exc:  # the database may be away; the next pass retries
                # The name only: SQL errors quote their parameters, phone numbers among them.
                log.error("worker pass failed (%s); again in %s s", type(exc).__name__, poll)
                log.debug("worker pass failed", exc_info=True)
            with suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), poll)
        log.info("worker %s stopped", self.name)


async def observe(sessions: async_sessionmaker[AsyncSession], now: datetime) -> None:
    """Set the outbox backlog and worker lag gauges, in a read-only transaction of their own."""
    async with sessions() as session:
        await begin_read_only(session)
        await refresh_work_gauges(session, now=now)


async def refresh_work_gauges(session: AsyncSession, *, now: datetime) -> None:
    """Set the outbox backlog and the worker lag (age of the oldest due work, 0 if none)."""
    backlog = 0
    for status in (OutboxStatus.PENDING, OutboxStatus.SENDING):
        # One count per status reads its partial index, never the whole outbox.
        counted = select(func.count()).select_from(OutboxItem).where(OutboxItem.status == status)
        backlog += await session.scalar(counted) or 0
    oldest_nudge = await session.scalar(
        select(func.min(Obligation.next_reminder_at))
        .join(Recruiter, Recruiter.id == Obligation.recruiter_id)
        .where(*due(now), Recruiter.active)
    )
    oldest_item = await session.scalar(
        select(func.min(OutboxItem.next_attempt_at)).where(
            OutboxItem.status == OutboxStatus.PENDING, OutboxItem.next_attempt_at <= now
        )
    )
    OUTBOX_BACKLOG.set(backlog)
    oldest = min((t for t in (oldest_nudge, oldest_item) if t is not None), default=now)
    WORKER_LAG.set(max(0.0, (now - oldest).total_seconds()))


async def run_worker(settings: Settings) -> None:
    """The `callpledge worker` process: passes until SIGTERM or SIGINT."""
    runtime = Runtime.start(settings)
    worker = Worker(runtime)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, worker.stop)
    try:
        await worker.run()
    finally:
        await runtime.stop()
