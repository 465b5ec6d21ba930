"""What a nudging pass reads besides the obligations: voicemail transcripts, and which
withheld callers' transcripts may still come."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.courtesy.texts import due_words
from app.models import Obligation, Voicemail
from app.reminders.policy import NudgeFacts
from app.voice.voicemails import NOT_RECORDED


async def nudge_facts(
    session: AsyncSession, obligations: Sequence[Obligation], at: datetime, zones: dict[int, str]
) -> dict[int, NudgeFacts]:
    """What the texts say about each obligation, with its latest voicemail transcript."""
    transcripts: dict[int, str | None] = {}
    rows = await session.execute(
        select(Voicemail.obligation_id, Voicemail.transcript)
        .where(Voicemail.obligation_id.in_([o.id for o in obligations]))
        .order_by(Voicemail.created_at, Voicemail.id)
    )
    for obligation_id, transcript in rows:
        if obligation_id is not None:
            transcripts[obligation_id] = transcript or transcripts.get(obligation_id)
    return {
        o.id: NudgeFacts(
            obligation_id=o.id,
            caller=o.caller,
            caller_name=o.caller_name,
            opened_at=o.opened_at,
            last_missed_at=o.last_missed_at,
            missed_calls=o.missed_calls,
            transcript=transcripts.get(o.id),
            has_voicemail=o.id in transcripts,
            due_by=None
            if o.promised_by is None
            else due_words(o.promised_by, at, zones.get(o.recruiter_id, "UTC")),
        )
        for o in obligations
    }


async def transcribing(session: AsyncSession, obligations: Sequence[Obligation]) -> set[int]:
    """Withheld callers' obligations, not yet told about, whose voicemail transcript may still
    come: neither transcribed nor failed, and the recording was not absent."""
    ids = [o.id for o in obligations if o.caller is None and not o.reminders_sent]
    if not ids:
        return set()
    rows = await session.scalars(
        select(Voicemail.obligation_id).where(
            Voicemail.obligation_id.in_(ids),
            Voicemail.transcript_status.is_(None),
            Voicemail.recording_status.not_in(NOT_RECORDED),
        )
    )
    return {obligation_id for obligation_id in rows if obligation_id is not None}
