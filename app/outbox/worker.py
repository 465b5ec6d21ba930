"""The reminder worker: every WORKER_POLL_SECONDS it queues due nudges and sends the outbox.

`callpledge worker` runs it alone; `callpledge serve` runs it inside the service. On
SIGTERM or SIGINT it finishes the item in hand, claims nothing more and returns.
"""

import asyncio
import logging
import os
import signal
import socket
from dataclasses import dataclass

from app.care.loop import CareLoop
from app.config import Settings
from app.courtesy.opening import open_promises
from app.courtesy.policy import Courtesy
from app.outbox.sender import OutboxSender
from app.passes import pass_after_pass
from app.reminders.queue import Nudging, queue_due_nudges
from app.runtime import Runtime
from app.twilio.outbound import Transport, transport_for
from app.webhooks.loop import WebhookLoop

log = logging.getLogger(__name__)
SIDE_LOOP_GRACE_SECONDS = 2.0


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
        self.nudging = Nudging(runtime.policy, runtime.settings.escalation_number)
        self.courtesy = Courtesy.of(runtime.settings)
        self.sender = OutboxSender(
            runtime.sessions,
            transport=transport or transport_for(runtime.settings),
            clock=runtime.clock,
            max_backoff=runtime.settings.retry_max_backoff,
            name=self.name,
            caller_hours=self.courtesy.hours,
        )
        self._stop = asyncio.Event()
        # Each in a task of its own: a hanging webhook receiver never holds nudges up.
        self.side_loops = (WebhookLoop(runtime), CareLoop(runtime))

    def stop(self) -> None:
        """Finish the item in hand, claim nothing more, and return from `run`."""
        self._stop.set()

    def stopping(self) -> bool:
        return self._stop.is_set()

    async def run_once(self) -> Pass:
        """One pass: make new obligations' promises and text-backs, queue the due nudges, then
        send what the outbox has due."""
        try:
            await self._open_promises()
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

    async def _open_promises(self) -> None:
        """The courtesy pass (app/courtesy); its failure must not hold the nudges back."""
        try:
            await open_promises(
                self.runtime.sessions,
                courtesy=self.courtesy,
                now=self.runtime.clock.now,
                stopping=self.stopping,
            )
        except Exception as exc:  # the next pass tries again
            log.error("promise pass failed (%s)", type(exc).__name__)
            log.debug("promise pass failed", exc_info=True)

    async def run(self) -> None:
        """Pass after pass, WORKER_POLL_SECONDS apart, until `stop()`."""
        poll = self.runtime.settings.worker_poll_seconds
        log.info("worker %s started", self.name)
        side = [asyncio.create_task(loop.run(self._stop)) for loop in self.side_loops]
        await pass_after_pass(self.run_once, stop=self._stop, poll=poll, log=log, what="worker")
        await _stopped(side)
        log.info("worker %s stopped", self.name)


async def _stopped(tasks: list[asyncio.Task[None]]) -> None:
    """Let the side loops end their pass; one stuck on a slow receiver is cancelled (its
    delivery stays claimed and goes again after the lease: at least once)."""
    _done, stuck = await asyncio.wait(tasks, timeout=SIDE_LOOP_GRACE_SECONDS)
    for task in stuck:
        task.cancel()
    await asyncio.gather(*stuck, return_exceptions=True)


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
