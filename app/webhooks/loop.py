"""The worker's webhook loop, a task of its own: a slow or hanging receiver holds up only
webhooks, never nudges."""

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from app.db import unit_of_work
from app.passes import pass_after_pass
from app.runtime import Runtime
from app.webhooks.dispatch import TIMEOUT_SECONDS, WebhookSender
from app.webhooks.events import mark_overdue
from app.webhooks.fanout import fan_out, prune

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebhookPass:
    overdue: int  # obligations announced overdue
    fanned_out: int  # events turned into deliveries
    attempted: int  # deliveries POSTed


class WebhookLoop:
    def __init__(self, runtime: Runtime, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self.runtime = runtime
        self.sender = WebhookSender(
            runtime.sessions,
            clock=runtime.clock,
            disable_after=timedelta(days=runtime.settings.webhook_disable_after_days),
            timeout=timeout,
        )

    async def run_once(self) -> WebhookPass:
        """Announce overdue obligations, fan new events out (and prune the log's oldest),
        deliver what is due."""
        now = self.runtime.clock.now()
        async with unit_of_work(self.runtime.sessions) as session:
            overdue = await mark_overdue(session, now=now)
        async with unit_of_work(self.runtime.sessions) as session:
            fanned_out = await fan_out(session, now=now)
            await prune(session, now=now)
        return WebhookPass(overdue, fanned_out, await self.sender.send_due())

    async def run(self, stop: asyncio.Event) -> None:
        """Pass after pass, WORKER_POLL_SECONDS apart (at once again while busy), until
        `stop` is set."""
        poll = self.runtime.settings.worker_poll_seconds
        await pass_after_pass(
            self.run_once, stop=stop, poll=poll, log=log, what="webhook", again_at_once=_busy
        )


def _busy(done: WebhookPass) -> bool:
    """More may be waiting after a pass that fanned out or attempted anything."""
    return bool(done.fanned_out or done.attempted)
