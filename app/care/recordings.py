"""Deleting queued voicemail recordings at Twilio: claim, commit, DELETE, record."""

import asyncio
import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from app.config import Settings
from app.db import unit_of_work
from app.models import RecordingDeletion
from app.twilio.client import build_client

BATCH = 50
MOST_ATTEMPTS = 24 * 60  # a day of the care loop's once-a-minute passes
log = logging.getLogger(__name__)


class RecordingEraser:
    """Deletes recordings through the REST API (in a thread: the client blocks)."""

    def __init__(self, settings: Settings, client: Client | None = None) -> None:
        self.settings = settings
        self._client = client

    @property
    def has_credentials(self) -> bool:
        return self.settings.twilio_account_sid is not None and not self.settings.demo_mode

    def client(self) -> Client:
        if self._client is None:
            self._client = build_client(self.settings)
        return self._client

    async def delete_queued(
        self, sessions: async_sessionmaker[AsyncSession], *, now: datetime
    ) -> int:
        """Delete a batch of queued recordings; how many are gone now."""
        async with unit_of_work(sessions) as session:
            sids = await self._claim(session)
        results = {sid: await asyncio.to_thread(self._delete, sid) for sid in sids}
        async with unit_of_work(sessions) as session:
            for sid, error in results.items():
                await _record(session, sid, error, now)
        return sum(1 for error in results.values() if error is None)

    async def _claim(self, session: AsyncSession) -> list[str]:
        rows = (
            await session.scalars(
                select(RecordingDeletion)
                .where(
                    RecordingDeletion.deleted_at.is_(None),
                    RecordingDeletion.attempts < MOST_ATTEMPTS,
                )
                .order_by(RecordingDeletion.id)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            )
        ).all()
        for row in rows:
            row.attempts += 1
        return [row.recording_sid for row in rows]

    def _delete(self, sid: str) -> str | None:
        """None when the recording is gone (deleted now, or before); else the problem."""
        if not self.has_credentials:
            return None  # demo mode: recordings live in no account this service reaches
        try:
            self.client().recordings(sid).delete()
        except TwilioRestException as exc:
            return None if exc.status == 404 else f"Twilio answered {exc.status} ({exc.code})"
        except (TwilioException, OSError) as exc:
            return f"could not reach Twilio ({type(exc).__name__})"
        return None


async def _record(session: AsyncSession, sid: str, error: str | None, now: datetime) -> None:
    row = (
        await session.scalars(
            select(RecordingDeletion).where(RecordingDeletion.recording_sid == sid)
        )
    ).one_or_none()
    if row is None:
        return
    row.error = error
    if error is None:
        row.deleted_at = now
    else:
        log.warning("recording %s not deleted yet: %s", sid, error)
