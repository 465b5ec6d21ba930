"""One reconcile run: read each line's call history from Twilio, skip what the database
already knows, and restore the rest, one transaction per call (never across a request to
Twilio), so an interrupted run loses nothing and a second run adds nothing."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import begin_read_only, unit_of_work
from app.reconcile.restore import FINISHED_RECORDING, Known, Miss, Restored, known, miss_of, restore
from app.reminders.policy import NudgePolicy
from app.twilio.history import CallHistory, PastCall, PastTranscript, Recording
from app.voice.call_log import TERMINAL


class Progress(Protocol):
    def start(self, total: int) -> None:
        """The run has `total` calls to check."""

    def advance(self) -> None:
        """One more call checked."""


@dataclass(frozen=True)
class Line:
    recruiter_id: int
    number: str


@dataclass
class LineSummary:
    """What one line's history held, and what was restored from it."""

    line: Line
    calls: int = 0
    known: int = 0  # missed and already counted, with every voicemail stored
    taken: int = 0
    unfinished: int = 0  # still going: a later run decides them
    restored: list[Restored] = field(default_factory=list)


class Reconciler:
    def __init__(
        self,
        *,
        history: CallHistory,
        sessions: async_sessionmaker[AsyncSession],
        region: str,
        policy: NudgePolicy,
        progress: Progress,
    ) -> None:
        self._history = history
        self._sessions = sessions
        self._region = region
        self._policy = policy
        self._progress = progress

    async def run(self, *, lines: Sequence[Line], since: datetime) -> list[LineSummary]:
        """Restore every missed call to `lines` since `since` that the database lacks."""
        recordings = await asyncio.to_thread(self._history.recordings, since=since)
        histories = [
            await asyncio.to_thread(self._history.inbound_calls, line=line.number, since=since)
            for line in lines
        ]
        self._progress.start(sum(len(calls) for calls in histories))
        return [
            await self._line(line, calls, recordings)
            for line, calls in zip(lines, histories, strict=True)
        ]

    async def _line(
        self, line: Line, calls: list[PastCall], recordings: dict[str, list[Recording]]
    ) -> LineSummary:
        summary = LineSummary(line, calls=len(calls))
        finished = {
            call.sid: [r for r in recordings.get(call.sid, []) if r.status in FINISHED_RECORDING]
            for call in calls
        }
        async with self._sessions() as session:
            await begin_read_only(session)
            state = await known(
                session,
                call_sids=list(finished),
                recording_sids=[r.sid for found in finished.values() for r in found],
            )
        for call in calls:
            await self._call(call, finished[call.sid], state, summary)
            self._progress.advance()
        return summary

    async def _call(
        self,
        call: PastCall,
        recordings: list[Recording],
        state: Known,
        summary: LineSummary,
    ) -> None:
        if call.status not in TERMINAL:
            summary.unfinished += 1
            return
        counted = call.sid in state.counted
        miss = None if counted else await self._miss(call, recordings)
        attach = [r for r in recordings if state.needs_recording(r)]
        transcripts = await self._transcripts([r for r in recordings if state.needs_transcript(r)])
        if miss is None and not attach and not transcripts:
            if counted:
                summary.known += 1
            else:
                summary.taken += 1
            return
        async with unit_of_work(self._sessions) as session:
            restored = await restore(
                session,
                call=call,
                recruiter_id=summary.line.recruiter_id,
                miss=miss,
                recordings=attach,
                transcripts=transcripts,
                region=self._region,
                policy=self._policy,
            )
        if restored.changed:
            summary.restored.append(restored)
        else:
            summary.known += 1

    async def _miss(self, call: PastCall, recordings: list[Recording]) -> Miss | None:
        if recordings:
            return Miss.VOICEMAIL
        legs = await asyncio.to_thread(self._history.legs, call.sid)
        return miss_of(call, legs=legs)

    async def _transcripts(self, recordings: list[Recording]) -> list[PastTranscript]:
        found = [await asyncio.to_thread(self._history.transcript, r.sid) for r in recordings]
        return [transcript for transcript in found if transcript is not None]
