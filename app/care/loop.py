"""The worker's data-care loop, a task of its own, at most once a minute: queued recording
deletions at Twilio (retried for a day), then retention."""

import asyncio
import logging
from datetime import datetime, timedelta

from app.care.recordings import RecordingEraser
from app.care.retention import redact_expired
from app.db import unit_of_work
from app.passes import pass_after_pass
from app.runtime import Runtime

EVERY = timedelta(minutes=1)
log = logging.getLogger(__name__)


class CareLoop:
    def __init__(self, runtime: Runtime, *, eraser: RecordingEraser | None = None) -> None:
        self.runtime = runtime
        self.eraser = eraser or RecordingEraser(runtime.settings)
        self._passed_at: datetime | None = None

    async def run_once(self) -> tuple[int, int]:
        """One pass, at most once a minute: (obligations redacted by retention, recordings
        deleted at Twilio)."""
        now = self.runtime.clock.now()
        if self._passed_at is not None and now - self._passed_at < EVERY:
            return 0, 0
        self._passed_at = now
        deleted = await self.eraser.delete_queued(self.runtime.sessions, now=now)
        return await self._retain(now), deleted

    async def _retain(self, now: datetime) -> int:
        days = self.runtime.settings.retention_days
        if days is None:
            return 0
        redacted = 0
        while True:  # batch after batch, each its own short transaction
            async with unit_of_work(self.runtime.sessions) as session:
                batch = await redact_expired(session, now=now, days=days)
            redacted += batch
            if batch == 0:
                return redacted

    async def run(self, stop: asyncio.Event) -> None:
        """Pass after pass until `stop` is set (WORKER_POLL_SECONDS apart)."""
        poll = self.runtime.settings.worker_poll_seconds
        await pass_after_pass(self.run_once, stop=stop, poll=poll, log=log, what="data-care")
