"""Returned calls in event-time order: the final state does not depend on arrival order.

A recruiter's call with someone (a callback that connected or went unanswered, or a
caller's call they took) is noted on its call-log row: whom (`party`) and when
(`party_at`, Twilio's time). Then, whatever order the reports arrive in:

- a miss whose time is before a return that settled nothing opens its obligation and
  closes it at once, at the return's time, with reason `callback` or `answered`, no
  nudge and no caller text-back (`MissResult.returned`); both timeline lines say `late`;
- a return that closes an obligation splits off the misses after it (returns_split),
  and a return reported after a later one closes what was open at its time (returns_late);
- an unanswered callback counts on the obligation that was open at its time.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import ColumnElement, case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import values_for
from app.metrics import OBLIGATIONS_CLOSED, OBLIGATIONS_OPENED
from app.models import (
    Call,
    CloseReason,
    Obligation,
    ObligationStatus,
)
from app.obligations.miss_sql import miss_statements
from app.obligations.service import (
    CallFacts,
    Miss,
    MissResult,
    claim_call,
    count_in_arrival_order,
    locked,
    record_attempt,
)
from app.obligations.timeline import TWILIO, EventKind, note, recruiter_actor
from app.reminders.policy import NudgePolicy
from app.voice.call_log import INBOUND

RETURNED = "completed"


@dataclass(frozen=True)
class PartyCall:
    """A recruiter's call with a party that settled no obligation (yet)."""

    call_id: int
    call_sid: str
    at: datetime
    reason: CloseReason | None  # None: an unanswered callback (an attempt)
    status: str


async def note_party(session: AsyncSession, *, call_id: int, party: str, at: datetime) -> None:
    """Note on the call's row whom the recruiter reached (or tried to) and when; the earliest
    report's time wins, so repeats in any order agree."""
    earliest = case((Call.party_at.is_(None), at), (Call.party_at > at, at), else_=Call.party_at)
    await session.execute(
        update(Call).where(Call.id == call_id).values(party=party, party_at=earliest)
    )


async def record_miss(
    session: AsyncSession,
    *,
    call: CallFacts,
    recruiter_id: int,
    caller: str | None,
    policy: NudgePolicy,
) -> MissResult:
    """Count a missed call as if its reports had come in event-time order."""
    later = await _unsettled_after(session, recruiter_id, caller, call.at)
    returned = next((party_call for party_call in later if party_call.reason), None)
    if returned is not None and not await _closed_between(
        session, recruiter_id, caller, call.at, returned.at
    ):
        result = await _open_returned(
            session, call=call, recruiter_id=recruiter_id, caller=caller, by=returned
        )
    else:  # counted as it arrives: opened, merged, or joined to a later-closed one
        miss = Miss(call, recruiter_id, caller)
        result = await count_in_arrival_order(session, miss=miss, policy=policy)
    if result.counted and result.obligation_id is not None:
        attempts = [party_call for party_call in later if party_call.reason is None]
        await _adopt_attempts(session, result.obligation_id, attempts, policy)
    return result


def closed_of(recruiter_id: int, caller: str | None) -> list[ColumnElement[bool]]:
    """The conditions of a closed obligation of (recruiter, caller)."""
    return [
        Obligation.recruiter_id == recruiter_id,
        Obligation.caller == caller,
        Obligation.status == ObligationStatus.CLOSED,
    ]


async def attempt_on_closed(
    session: AsyncSession,
    *,
    call_id: int,
    call_sid: str,
    recruiter_id: int,
    callee: str,
    at: datetime,
) -> bool:
    """An unanswered callback reported after the obligation open at its time closed: it
    counts there (on the timeline and in `callback_attempts`). False if none was open then."""
    open_then = (Obligation.opened_at <= at, Obligation.closed_at > at)
    obligation_id = await session.scalar(
        select(Obligation.id)
        .where(*closed_of(recruiter_id, callee), *open_then)
        .order_by(Obligation.opened_at)
        .limit(1)
    )
    if obligation_id is None:
        return False
    attempt = PartyCall(call_id, call_sid, at, None, "")
    await _count_attempt(session, await locked(session, obligation_id), attempt, None)
    return True


async def party_call(session: AsyncSession, call_id: int) -> PartyCall | None:
    """The call's row as a recruiter's call with a party (None if it is not one)."""
    row = (
        await session.execute(
            select(Call.id, Call.call_sid, Call.party_at, Call.direction, Call.status).where(
                Call.id == call_id, Call.party.is_not(None)
            )
        )
    ).one_or_none()
    if row is None:
        return None
    return PartyCall(
        row.id, row.call_sid, row.party_at, _reason(row.direction, row.status), row.status
    )


async def _unsettled_after(
    session: AsyncSession, recruiter_id: int, caller: str | None, at: datetime
) -> list[PartyCall]:
    if caller is None:
        return []
    rows = (
        await session.execute(
            select(Call.id, Call.call_sid, Call.party_at, Call.direction, Call.status)
            .where(
                Call.recruiter_id == recruiter_id,
                Call.party == caller,
                Call.party_at >= at,
                Call.obligation_id.is_(None),
            )
            .order_by(Call.party_at, Call.id)
        )
    ).all()
    return [
        PartyCall(r.id, r.call_sid, r.party_at, _reason(r.direction, r.status), r.status)
        for r in rows
    ]


def _reason(direction: str, status: str) -> CloseReason | None:
    if direction == INBOUND:
        return CloseReason.ANSWERED
    return CloseReason.CALLBACK if status == RETURNED else None


async def _closed_between(
    session: AsyncSession, recruiter_id: int, caller: str | None, start: datetime, end: datetime
) -> bool:
    """Whether an obligation of (recruiter, caller) closed between the miss and the return:
    the miss belongs to that one (the arrival-order path joins it)."""
    during = (Obligation.closed_at >= start, Obligation.closed_at <= end)
    found = await session.scalar(
        select(Obligation.id).where(*closed_of(recruiter_id, caller), *during).limit(1)
    )
    return found is not None


async def _open_returned(
    session: AsyncSession, *, call: CallFacts, recruiter_id: int, caller: str | None, by: PartyCall
) -> MissResult:
    """Open the miss's obligation already closed by the return `by` (no nudge is due)."""
    claimed = await claim_call(session, call=replace(call, recruiter_id=recruiter_id))
    if claimed.missed_at is not None:
        return MissResult(claimed.obligation_id, counted=False)
    assert by.reason is not None
    closed_at = max(by.at, call.at)
    obligation = Obligation(
        recruiter_id=recruiter_id,
        caller=caller,
        caller_name=call.caller_name,
        status=ObligationStatus.CLOSED,
        opened_at=call.at,
        last_missed_at=call.at,
        missed_calls=1,
        reminders_sent=0,
        next_reminder_at=None,
        callback_attempts=0,
        closed_at=closed_at,
        close_reason=by.reason,
        seconds_to_close=int((closed_at - call.at).total_seconds()),
        updated_at=closed_at,
    )
    return await _store_returned(session, obligation, call, claimed.id, by)


async def _store_returned(
    session: AsyncSession, obligation: Obligation, call: CallFacts, call_id: int, by: PartyCall
) -> MissResult:
    session.add(obligation)
    await session.flush()
    opened = {"call_sid": call.call_sid, "missed_calls": 1, "late": True}
    await note(session, obligation.id, EventKind.OPENED, actor=TWILIO, at=call.at, **opened)
    assert by.reason is not None and obligation.closed_at is not None
    actor = (
        TWILIO if by.reason is CloseReason.ANSWERED else recruiter_actor(obligation.recruiter_id)
    )
    closed = {"reason": by.reason.value, "call_sid": by.call_sid, "late": True}
    await note(
        session, obligation.id, EventKind.CLOSED, actor=actor, at=obligation.closed_at, **closed
    )
    marked = {"call_id": call_id, "at": call.at, "obligation_id": obligation.id}
    await session.execute(miss_statements(session).mark_missed, values_for(marked))
    await _link(session, by.call_id, obligation.id, obligation.closed_at)
    OBLIGATIONS_OPENED.inc()
    OBLIGATIONS_CLOSED.labels(reason=by.reason.value).inc()
    return MissResult(obligation.id, counted=True, opened=True, returned=True)


async def _adopt_attempts(
    session: AsyncSession, obligation_id: int, attempts: Sequence[PartyCall], policy: NudgePolicy
) -> None:
    """Unanswered callbacks reported before this miss, made while its obligation was open."""
    if not attempts:
        return
    obligation = await locked(session, obligation_id)
    for attempt in attempts:
        ended = obligation.closed_at
        if obligation.opened_at <= attempt.at and (ended is None or attempt.at < ended):
            await _count_attempt(session, obligation, attempt, policy)


async def _count_attempt(
    session: AsyncSession, obligation: Obligation, attempt: PartyCall, policy: NudgePolicy | None
) -> None:
    actor = recruiter_actor(obligation.recruiter_id)
    await _link(session, attempt.call_id, obligation.id, attempt.at)
    if obligation.status is ObligationStatus.OPEN and policy is not None:
        await record_attempt(
            session,
            obligation=obligation,
            at=attempt.at,
            outcome=attempt.status or "no-answer",
            call_sid=attempt.call_sid,
            actor=actor,
            policy=policy,
        )
        return
    obligation.callback_attempts += 1
    detail = {"call_sid": attempt.call_sid, "outcome": attempt.status or "no-answer", "late": True}
    await note(
        session, obligation.id, EventKind.CALLBACK_ATTEMPT, actor=actor, at=attempt.at, **detail
    )


async def _link(session: AsyncSession, call_id: int, obligation_id: int, at: datetime) -> None:
    await session.execute(
        update(Call).where(Call.id == call_id).values(obligation_id=obligation_id, updated_at=at)
    )
