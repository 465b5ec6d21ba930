"""Voicemails: the recording, then its transcript, attached to the missed call's obligation.

The recording and transcription callbacks may arrive before or after the Dial action and
the status callback. Each locks the call's row (so the callbacks of one call take turns),
makes sure the miss is counted, and upserts the voicemail by RecordingSid, so a transcript
that arrives before its recording works.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.db import dialect_insert
from app.models import Call, Voicemail
from app.obligations.returns import record_miss
from app.obligations.service import CallFacts, open_for_withheld_voicemail
from app.obligations.timeline import TWILIO, EventKind, note
from app.phones import caller_number
from app.reminders.policy import NudgePolicy
from app.twilio.history import Recording

log = logging.getLogger(__name__)
RECORDED = "completed"
# Statuses of a recording that never came to be (too short or silent, or not stored).
NOT_RECORDED = frozenset({"absent", "failed"})
TRANSCRIBED = "completed"


class VoicemailOutcome(StrEnum):
    """What a recording or transcription callback did (the metric's `outcome` label)."""

    ATTACHED = "attached"
    ABSENT = "absent"
    FAILED = "failed"
    REPEATED = "repeated"
    UNATTACHED = "unattached"  # no obligation: an unknown call, or withheld and silent
    IGNORED = "ignored"


@dataclass(frozen=True)
class TranscriptReport:
    call_sid: str
    recording_sid: str
    status: str
    text: str | None
    recording_url: str | None
    at: datetime


@dataclass(frozen=True)
class _Part:
    """One part of a voicemail (its recording, or its transcript) and its line on the timeline."""

    call_sid: str
    recording_sid: str
    at: datetime
    left_message: bool
    values: dict[str, Any]
    once: InstrumentedAttribute[str | None]  # set when this part was stored
    kind: EventKind
    detail: dict[str, Any]


async def on_recording(
    session: AsyncSession, *, recording: Recording, region: str, policy: NudgePolicy
) -> VoicemailOutcome:
    """Attach a recording (or note that none was made) to the call's obligation."""
    recorded = recording.status == RECORDED
    if not recorded and recording.status not in NOT_RECORDED:
        return VoicemailOutcome.IGNORED  # an `in-progress` event nobody asked for
    detail: dict[str, Any] = {"duration_seconds": recording.duration_seconds}
    if not recorded:
        detail = {"status": recording.status, "error_code": recording.error_code}
    part = _Part(
        call_sid=recording.call_sid,
        recording_sid=recording.sid,
        at=recording.created_at,
        left_message=recorded,
        values={
            "recording_url": recording.url if recorded else None,
            "duration_seconds": recording.duration_seconds,
            "recording_status": recording.status,
        },
        once=Voicemail.recording_status,
        kind=EventKind.VOICEMAIL if recorded else EventKind.VOICEMAIL_ABSENT,
        detail=detail,
    )
    outcome = await _attach(session, part=part, region=region, policy=policy)
    if outcome is VoicemailOutcome.ATTACHED and not recorded:
        return VoicemailOutcome(recording.status)
    return outcome


async def on_transcript(
    session: AsyncSession, *, report: TranscriptReport, region: str, policy: NudgePolicy
) -> VoicemailOutcome:
    """Attach a transcript (or note that transcription failed) to the call's obligation."""
    transcribed = report.status == TRANSCRIBED
    part = _Part(
        call_sid=report.call_sid,
        recording_sid=report.recording_sid,
        at=report.at,
        left_message=True,  # a transcription, even a failed one, means a message was left
        values={
            "recording_url": report.recording_url,
            "transcript": report.text if transcribed else None,
            "transcript_status": report.status,
        },
        once=Voicemail.transcript_status,
        kind=EventKind.TRANSCRIPT if transcribed else EventKind.TRANSCRIPT_FAILED,
        detail={"characters": len(report.text or "")} if transcribed else {"status": report.status},
    )
    outcome = await _attach(session, part=part, region=region, policy=policy)
    if outcome is VoicemailOutcome.ATTACHED and not transcribed:
        return VoicemailOutcome.FAILED
    return outcome


async def adopt_kept(
    session: AsyncSession, *, recording_sid: str, at: datetime, region: str, policy: NudgePolicy
) -> int | None:
    """Attach a voicemail kept unattached (its call was unknown then) to its call's obligation.

    The obligation's id, or None when there was nothing to attach (reconciliation's step,
    once the call itself is known).
    """
    kept = (
        await session.execute(
            select(Voicemail.call_sid, Voicemail.duration_seconds).where(
                Voicemail.recording_sid == recording_sid,
                Voicemail.obligation_id.is_(None),
                Voicemail.recording_status == RECORDED,
            )
        )
    ).one_or_none()
    if kept is None:
        return None
    # The call's row first, as every voicemail callback locks it first.
    obligation_id = await _obligation_of(
        session, call_sid=kept.call_sid, at=at, left_message=True, region=region, policy=policy
    )
    if obligation_id is None:
        return None
    attached = await session.execute(
        update(Voicemail)
        .where(Voicemail.recording_sid == recording_sid, Voicemail.obligation_id.is_(None))
        .values(obligation_id=obligation_id, updated_at=at)
        .returning(Voicemail.id)
    )
    if attached.first() is None:
        return None
    detail = {"recording_sid": recording_sid, "duration_seconds": kept.duration_seconds}
    await note(session, obligation_id, EventKind.VOICEMAIL, actor=TWILIO, at=at, **detail)
    return obligation_id


async def adopt_kept_of_call(
    session: AsyncSession, *, call_sid: str, at: datetime, region: str, policy: NudgePolicy
) -> int | None:
    """Attach the voicemails of `call_sid` kept unattached (recorded before the call was
    known) to its obligation, once the call is known; the obligation's id, or None."""
    kept = await session.scalars(
        select(Voicemail.recording_sid)
        .where(
            Voicemail.call_sid == call_sid,
            Voicemail.obligation_id.is_(None),
            Voicemail.recording_status == RECORDED,
        )
        .order_by(Voicemail.id)
    )
    obligation_id = None
    for recording_sid in kept.all():
        adopted = await adopt_kept(
            session, recording_sid=recording_sid, at=at, region=region, policy=policy
        )
        obligation_id = adopted or obligation_id
    return obligation_id


async def _attach(
    session: AsyncSession, *, part: _Part, region: str, policy: NudgePolicy
) -> VoicemailOutcome:
    obligation_id = await _obligation_of(
        session,
        call_sid=part.call_sid,
        at=part.at,
        left_message=part.left_message,
        region=region,
        policy=policy,
    )
    # A recording that never came to be is no voicemail of the obligation; its timeline
    # says why.
    listed_on = obligation_id if part.left_message else None
    if not await _upsert(session, part=part, obligation_id=listed_on):
        return VoicemailOutcome.REPEATED
    if obligation_id is None:
        return VoicemailOutcome.UNATTACHED
    detail = {"recording_sid": part.recording_sid} | part.detail
    await note(session, obligation_id, part.kind, actor=TWILIO, at=part.at, **detail)
    return VoicemailOutcome.ATTACHED


async def _obligation_of(
    session: AsyncSession,
    *,
    call_sid: str,
    at: datetime,
    left_message: bool,
    region: str,
    policy: NudgePolicy,
) -> int | None:
    """The obligation of the call's miss, counting the miss first if nothing else has."""
    call = (
        await session.scalars(select(Call).where(Call.call_sid == call_sid).with_for_update())
    ).one_or_none()
    if call is None or call.recruiter_id is None:
        # Answered by the fallback while the database was away: kept for reconciliation.
        log.warning("voicemail of call %s, unknown or to no recruiter: kept unattached", call_sid)
        return None
    caller = caller_number(call.from_number, region)
    obligation_id = call.obligation_id
    if call.missed_at is None:
        result = await record_miss(
            session,
            call=_facts(call, at),
            recruiter_id=call.recruiter_id,
            caller=caller,
            policy=policy,
        )
        obligation_id = result.obligation_id
    if obligation_id is None and caller is None and left_message:
        obligation_id = await open_for_withheld_voicemail(
            session, call_sid=call_sid, recruiter_id=call.recruiter_id, at=at, policy=policy
        )
    return obligation_id


def _facts(call: Call, at: datetime) -> CallFacts:
    return CallFacts(
        call_sid=call.call_sid,
        direction=call.direction,
        from_number=call.from_number,
        to_number=call.to_number,
        status=call.status,
        at=at,
        recruiter_id=call.recruiter_id,
        parent_call_sid=call.parent_call_sid,
        caller_name=call.caller_name,
    )


async def _upsert(session: AsyncSession, *, part: _Part, obligation_id: int | None) -> bool:
    """Insert or complete the voicemail; False if this part of it was stored before."""
    insert = dialect_insert(session)
    statement = insert(Voicemail).values(
        recording_sid=part.recording_sid,
        call_sid=part.call_sid,
        obligation_id=obligation_id,
        created_at=part.at,
        updated_at=part.at,
        **part.values,
    )
    new = statement.excluded
    changes = {name: new[name] for name in part.values} | {
        "recording_url": func.coalesce(new.recording_url, Voicemail.recording_url),
        "obligation_id": func.coalesce(Voicemail.obligation_id, new.obligation_id),
        "updated_at": new.updated_at,
    }
    statement = statement.on_conflict_do_update(
        index_elements=[Voicemail.recording_sid], set_=changes, where=part.once.is_(None)
    ).returning(Voicemail.id)
    return (await session.execute(statement)).first() is not None
