"""A return that closes an obligation splits off the misses made after it.

Their reports came first, so they were counted on the obligation the return closes; in
event-time order they came after it, so they move (calls, voicemails, timeline lines) to
a new open obligation whose first nudge is one first gap after the first of them.
"""

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.metrics import OBLIGATIONS_OPENED
from app.models import Call, Obligation, ObligationEvent, ObligationStatus, Voicemail
from app.obligations.timeline import TWILIO, EventKind, note
from app.reminders.policy import NudgePolicy


async def split_after(
    session: AsyncSession, *, obligation: Obligation, policy: NudgePolicy
) -> None:
    """Misses counted on an obligation that a return has just closed, but made after that
    return (their reports came first), move to a new open obligation."""
    closed_at = obligation.closed_at
    assert closed_at is not None
    rows = (
        await session.execute(
            select(Call.id, Call.call_sid, Call.missed_at)
            .where(Call.obligation_id == obligation.id, Call.missed_at > closed_at)
            .order_by(Call.missed_at, Call.id)
        )
    ).all()
    if not rows:
        return
    first, last = rows[0].missed_at, rows[-1].missed_at
    split = _new_obligation(obligation, first=first, last=last, missed_calls=len(rows))
    split.next_reminder_at = policy.first_due(first)
    session.add(split)
    obligation.missed_calls -= len(rows)
    obligation.last_missed_at = await _last_kept_miss(session, obligation, closed_at)
    await session.flush()
    sids = [row.call_sid for row in rows]
    await _move_calls(session, [row.id for row in rows], sids, split.id)
    await _retell_misses(session, obligation, sids)
    for count, row in enumerate(rows, start=1):
        kind = EventKind.OPENED if count == 1 else EventKind.MISSED_CALL
        detail = {"call_sid": row.call_sid, "missed_calls": count, "split_from": obligation.id}
        await note(session, split.id, kind, actor=TWILIO, at=row.missed_at, **detail)
    OBLIGATIONS_OPENED.inc()


async def _retell_misses(session: AsyncSession, obligation: Obligation, moved: list[str]) -> None:
    """Take the moved misses' lines off the closed obligation's timeline; its earliest
    remaining miss is the one that opened it."""
    kinds = (EventKind.OPENED.value, EventKind.MISSED_CALL.value)
    events = (
        await session.scalars(
            select(ObligationEvent)
            .where(ObligationEvent.obligation_id == obligation.id, ObligationEvent.kind.in_(kinds))
            .order_by(ObligationEvent.at, ObligationEvent.id)
        )
    ).all()
    kept = [event for event in events if (event.detail or {}).get("call_sid") not in moved]
    for event in events:
        if event not in kept:
            await session.delete(event)
    if kept and kept[0].kind != EventKind.OPENED.value:
        kept[0].kind = EventKind.OPENED.value
        for event in kept[1:]:
            event.kind = EventKind.MISSED_CALL.value
    await session.flush()


def _new_obligation(
    source: Obligation, *, first: datetime, last: datetime, missed_calls: int
) -> Obligation:
    return Obligation(
        recruiter_id=source.recruiter_id,
        caller=source.caller,
        caller_name=source.caller_name,
        status=ObligationStatus.OPEN,
        opened_at=first,
        last_missed_at=last,
        missed_calls=missed_calls,
        reminders_sent=0,
        callback_attempts=0,
        updated_at=last,
    )


async def _last_kept_miss(
    session: AsyncSession, obligation: Obligation, before: datetime
) -> datetime:
    kept = await session.scalar(
        select(Call.missed_at)
        .where(Call.obligation_id == obligation.id, Call.missed_at <= before)
        .order_by(Call.missed_at.desc())
        .limit(1)
    )
    return kept or obligation.opened_at


async def _move_calls(
    session: AsyncSession, call_ids: list[int], call_sids: list[str], obligation_id: int
) -> None:
    await session.execute(
        update(Call).where(Call.id.in_(call_ids)).values(obligation_id=obligation_id)
    )
    await session.execute(
        update(Voicemail)
        .where(Voicemail.call_sid.in_(call_sids), Voicemail.obligation_id.is_not(None))
        .values(obligation_id=obligation_id)
    )
