"""Reconciliation: the missed calls and voicemails Twilio holds that the service never heard of.

Webhooks lost in an outage, and voicemails the DB-free fallback took while the database
was down, are restored from Twilio's own records through the same functions the webhooks
use, so every step is idempotent by CallSid and RecordingSid: a second run adds nothing.

What makes an inbound call to a line a miss, read from the Calls resource:
- a recording on it: the caller reached the voicemail (the forward flow records only
  calls nobody took; the fallback records every call it answers);
- no `<Dial>` leg at all (no ParentCallSid child): the forward flow never ran, so
  the recruiter never rang (the service or its database was down);
- its legs all ended `busy`, `no-answer`, `failed` or `canceled`;
- a leg that was picked up (`completed`) but ended well before the call: the screen hung
  it up (declined, or the mobile's own voicemail) and the caller heard the voicemail
  greeting. A bridged call ends with its leg, give or take the Dial action's round trip.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Call, Voicemail
from app.obligations.returns import record_miss
from app.obligations.service import CallFacts, MissResult
from app.phones import caller_number
from app.reminders.policy import NudgePolicy
from app.twilio.history import PastCall, PastTranscript, Recording
from app.voice.call_log import DIAL_LEG, INBOUND, UNANSWERED, StatusReport, log_status
from app.voice.voicemails import (
    RECORDED,
    TranscriptReport,
    VoicemailOutcome,
    adopt_kept,
    on_recording,
    on_transcript,
)

# How much later than its answered leg a bridged call may end (the Dial action's answer).
BRIDGE_SLACK = timedelta(seconds=3)
# Recordings still being made or processed are left for a later run.
FINISHED_RECORDING = frozenset({RECORDED, "absent", "failed"})
_CHUNK = 500


class Miss(StrEnum):
    """Why a call counts as missed (see the module's docstring)."""

    VOICEMAIL = "voicemail"
    NOT_FORWARDED = "not forwarded"
    UNANSWERED = "unanswered"
    SCREENED_OUT = "screened out"


def miss_of(call: PastCall, *, legs: list[PastCall]) -> Miss | None:
    """Why a finished call without a recording was missed; None if the recruiter took it."""
    dialed = [leg for leg in legs if leg.direction == DIAL_LEG]
    if not dialed:
        return Miss.NOT_FORWARDED
    if any(_bridged(call, leg) for leg in dialed):
        return None
    if all(leg.status in UNANSWERED for leg in dialed):
        return Miss.UNANSWERED
    return Miss.SCREENED_OUT


def _bridged(call: PastCall, leg: PastCall) -> bool:
    if leg.status != "completed" or leg.ended_at is None or call.ended_at is None:
        return False
    return call.ended_at - leg.ended_at <= BRIDGE_SLACK


@dataclass(frozen=True)
class StoredVoicemail:
    obligation_id: int | None
    recording_status: str | None
    transcript_status: str | None


@dataclass(frozen=True)
class Known:
    """What the database already holds of some calls and their recordings."""

    counted: frozenset[str]  # CallSids whose miss is counted
    voicemails: dict[str, StoredVoicemail]  # by RecordingSid

    def needs_recording(self, recording: Recording) -> bool:
        """Whether the recording is not stored, or stored but kept unattached."""
        stored = self.voicemails.get(recording.sid)
        if stored is None or stored.recording_status is None:
            return True
        return recording.status == RECORDED and stored.obligation_id is None

    def needs_transcript(self, recording: Recording) -> bool:
        stored = self.voicemails.get(recording.sid)
        return recording.status == RECORDED and (stored is None or not stored.transcript_status)


async def known(session: AsyncSession, *, call_sids: list[str], recording_sids: list[str]) -> Known:
    """The counted misses among `call_sids`, and the stored voicemails among `recording_sids`."""
    counted: set[str] = set()
    for chunk in _chunks(call_sids):
        counted.update(
            await session.scalars(
                select(Call.call_sid).where(Call.call_sid.in_(chunk), Call.missed_at.is_not(None))
            )
        )
    voicemails: dict[str, StoredVoicemail] = {}
    for chunk in _chunks(recording_sids):
        rows = await session.execute(
            select(
                Voicemail.recording_sid,
                Voicemail.obligation_id,
                Voicemail.recording_status,
                Voicemail.transcript_status,
            ).where(Voicemail.recording_sid.in_(chunk))
        )
        voicemails |= {row[0]: StoredVoicemail(*row[1:]) for row in rows}
    return Known(frozenset(counted), voicemails)


def _chunks(items: list[str]) -> list[list[str]]:
    return [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]


@dataclass(frozen=True)
class Restored:
    """What one call's restoration changed."""

    call_sid: str
    caller: str | None
    miss: Miss | None  # None: the miss was counted already; only voicemail parts were missing
    obligation_id: int | None
    opened: bool
    counted: bool
    voicemails: tuple[str, ...]  # RecordingSids attached now
    transcripts: int

    @property
    def changed(self) -> bool:
        return self.counted or bool(self.voicemails) or self.transcripts > 0


async def restore(
    session: AsyncSession,
    *,
    call: PastCall,
    recruiter_id: int,
    miss: Miss | None,
    recordings: list[Recording],
    transcripts: list[PastTranscript],
    region: str,
    policy: NudgePolicy,
) -> Restored:
    """Count the call's miss (if `miss`) and attach its recordings and transcripts."""
    caller = caller_number(call.from_number, region)
    counted = opened = False
    if miss is not None:
        result = await _count_miss(session, call, recruiter_id, caller, policy)
        counted, opened = result.counted, result.opened
    attached = [r.sid for r in recordings if await _restore_recording(session, r, region, policy)]
    transcribed = [
        t for t in transcripts if await _restore_transcript(session, call.sid, t, region, policy)
    ]
    obligation_id = await session.scalar(
        select(Call.obligation_id).where(Call.call_sid == call.sid)
    )
    # A withheld caller's voicemail opens its own obligation when attached.
    opened = opened or (counted and caller is None and obligation_id is not None)
    return Restored(
        call_sid=call.sid,
        caller=caller,
        miss=miss,
        obligation_id=obligation_id,
        opened=opened,
        counted=counted,
        voicemails=tuple(attached),
        transcripts=len(transcribed),
    )


async def _count_miss(
    session: AsyncSession,
    call: PastCall,
    recruiter_id: int,
    caller: str | None,
    policy: NudgePolicy,
) -> MissResult:
    """Log the call as its status callback would, then count its miss as the Dial action does."""
    facts = _facts(call, recruiter_id)
    report = StatusReport(call=facts, sequence_number=None, duration_seconds=call.duration_seconds)
    await log_status(session, report=report)
    return await record_miss(
        session, call=facts, recruiter_id=recruiter_id, caller=caller, policy=policy
    )


async def _restore_recording(
    session: AsyncSession, recording: Recording, region: str, policy: NudgePolicy
) -> bool:
    outcome = await on_recording(session, recording=recording, region=region, policy=policy)
    if outcome is VoicemailOutcome.REPEATED:
        kept = await adopt_kept(
            session,
            recording_sid=recording.sid,
            at=recording.created_at,
            region=region,
            policy=policy,
        )
        return kept is not None
    # An absent recording (nothing said) is noted on the timeline, but is no voicemail.
    return outcome is VoicemailOutcome.ATTACHED


async def _restore_transcript(
    session: AsyncSession,
    call_sid: str,
    transcript: PastTranscript,
    region: str,
    policy: NudgePolicy,
) -> bool:
    report = TranscriptReport(
        call_sid=call_sid,
        recording_sid=transcript.recording_sid,
        status=transcript.status,
        text=transcript.text,
        recording_url=None,
        at=transcript.created_at,
    )
    outcome = await on_transcript(session, report=report, region=region, policy=policy)
    # A failed transcription is noted on the timeline; only text counts as a transcript.
    return outcome is VoicemailOutcome.ATTACHED


def _started(call: PastCall) -> datetime:
    """When the call started (Twilio leaves it empty only for calls never dialed)."""
    if call.started_at is None:
        raise ValueError(f"call {call.sid} has no start time")
    return call.started_at


def _facts(call: PastCall, recruiter_id: int) -> CallFacts:
    return CallFacts(
        call_sid=call.sid,
        direction=INBOUND,
        from_number=call.from_number,
        to_number=call.to_number,
        status=call.status,
        at=_started(call),
        recruiter_id=recruiter_id,
        caller_name=call.caller_name,
    )
