"""Obligations: open or merge on a missed call, close, snooze, attempts.

Service functions flush; the caller's transaction boundary commits. Every change that
can race (Twilio delivers callbacks twice, concurrently, out of order) is settled by a
lock on the call's row or by the partial unique index on open obligations.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import values_for
from app.errors import Conflict, NotFound
from app.metrics import OBLIGATIONS_CLOSED, OBLIGATIONS_OPENED
from app.models import Call, CallerText, CloseReason, Obligation, ObligationStatus
from app.obligations.miss_sql import miss_statements
from app.obligations.timeline import TWILIO, EventKind, note
from app.reminders.policy import NudgePolicy


def connected_at(ended_at: datetime, talked_seconds: int | None) -> datetime:
    """When a call reported at its end, after `talked_seconds` of conversation, connected:
    the moment a returned call closes its obligation."""
    return ended_at - timedelta(seconds=talked_seconds or 0)


@dataclass(frozen=True)
class CallFacts:
    """What a webhook tells about one CallSid."""

    call_sid: str
    direction: str
    from_number: str
    to_number: str
    status: str
    at: datetime
    recruiter_id: int | None = None
    parent_call_sid: str | None = None
    caller_name: str | None = None

    def row_values(self) -> dict[str, Any]:
        """The call log columns these facts fill, as statement values (`at` for the times)."""
        return {
            "call_sid": self.call_sid,
            "parent_call_sid": self.parent_call_sid,
            "direction": self.direction,
            "from_number": self.from_number,
            "to_number": self.to_number,
            "caller_name": self.caller_name,
            "status": self.status,
            "at": self.at,
        }


@dataclass(frozen=True)
class ClaimedCall:
    id: int
    recruiter_id: int | None
    from_number: str
    missed_at: datetime | None
    obligation_id: int | None


@dataclass(frozen=True)
class Miss:
    """A missed call to count: its facts, the recruiter whose line it rang, and the caller
    (None when withheld)."""

    call: CallFacts
    recruiter_id: int
    caller: str | None


@dataclass(frozen=True)
class MissResult:
    """The obligation a missed call belongs to (None for a withheld caller)."""

    obligation_id: int | None
    counted: bool  # False when this CallSid had already been counted
    opened: bool = False  # True when this miss opened a new obligation
    # True when the caller had been called back (or got through) after this miss: its
    # obligation opened closed (app.obligations.returns), so no nudge and no text-back is due.
    returned: bool = False


async def claim_call(session: AsyncSession, *, call: CallFacts) -> ClaimedCall:
    """Insert the call's row if new and lock it until commit, so its callbacks take turns."""
    values = call.row_values() | {"recruiter_id": call.recruiter_id}
    row = (await session.execute(miss_statements(session).claim_call, values_for(values))).one()
    return ClaimedCall(row.id, row.recruiter_id, row.from_number, row.missed_at, row.obligation_id)


async def count_in_arrival_order(
    session: AsyncSession, *, miss: Miss, policy: NudgePolicy
) -> MissResult:
    """Count a missed call once per CallSid: open an obligation or raise `missed_calls`
    (app.obligations.returns.record_miss first puts it in event-time order)."""
    call = miss.call
    # The recruiter goes on the call's row whether or not /incoming logged it first.
    claimed = await claim_call(session, call=replace(call, recruiter_id=miss.recruiter_id))
    if claimed.missed_at is not None:
        return MissResult(claimed.obligation_id, counted=False)
    obligation_id: int | None = None
    missed_calls = 0
    if miss.caller is not None:
        obligation_id, missed_calls = await _open_or_merge(
            session, call, miss.recruiter_id, miss.caller, policy
        )
        kind = EventKind.OPENED if missed_calls == 1 else EventKind.MISSED_CALL
        detail = {"call_sid": call.call_sid, "missed_calls": missed_calls}
        await note(session, obligation_id, kind, actor=TWILIO, at=call.at, **detail)
    marked = {"call_id": claimed.id, "at": call.at, "obligation_id": obligation_id}
    await session.execute(miss_statements(session).mark_missed, values_for(marked))
    if missed_calls == 1:
        OBLIGATIONS_OPENED.inc()
    return MissResult(obligation_id, counted=True, opened=missed_calls == 1)


async def _open_or_merge(
    session: AsyncSession, call: CallFacts, recruiter_id: int, caller: str, policy: NudgePolicy
) -> tuple[int, int]:
    """Upsert the open obligation for (recruiter, caller); return its id and missed_calls.

    A miss reported only after the obligation it belongs to was closed (the caller got
    through, or was called back, later than this call) joins that closed obligation
    instead of opening a new one, which was then open since this miss: the result must
    not depend on arrival order.
    """
    statements = miss_statements(session)
    values = {"recruiter_id": recruiter_id, "caller": caller, "at": call.at}
    upsert = values | {"caller_name": call.caller_name, "first_due": policy.first_due(call.at)}
    row = (await session.execute(statements.open_or_merge, values_for(upsert))).one_or_none()
    if row is None:
        row = (await session.execute(statements.join_closed, values_for(values))).one()
        await _opened_since(session, int(row.id), call.at)
    return int(row.id), int(row.missed_calls)


async def _opened_since(session: AsyncSession, obligation_id: int, at: datetime) -> None:
    """A closed obligation that took a late miss was open since that miss."""
    obligation = await session.get(Obligation, obligation_id, populate_existing=True)
    if obligation is None or obligation.closed_at is None or obligation.opened_at <= at:
        return
    obligation.opened_at = at
    obligation.seconds_to_close = int((obligation.closed_at - at).total_seconds())
    await session.flush()


async def open_for_withheld_voicemail(
    session: AsyncSession, *, call_sid: str, recruiter_id: int, at: datetime, policy: NudgePolicy
) -> int:
    """The caller-less obligation that holds a withheld caller's voicemail (one per call)."""
    claimed = await claim_call_row(session, call_sid)
    if claimed.obligation_id is not None:
        return claimed.obligation_id
    obligation = Obligation(
        recruiter_id=recruiter_id,
        caller=None,
        status=ObligationStatus.OPEN,
        opened_at=at,
        last_missed_at=at,
        missed_calls=1,
        reminders_sent=0,
        # Its one SMS waits a first gap, so the transcript can arrive first.
        next_reminder_at=policy.first_due(at),
        callback_attempts=0,
        updated_at=at,
        caller_text=CallerText.WITHHELD,
    )
    session.add(obligation)
    await session.flush()
    await session.execute(
        update(Call).where(Call.id == claimed.id).values(obligation_id=obligation.id, updated_at=at)
    )
    opened = {"call_sid": call_sid, "caller": "withheld"}
    await note(session, obligation.id, EventKind.OPENED, actor=TWILIO, at=at, **opened)
    OBLIGATIONS_OPENED.inc()
    return obligation.id


async def claim_call_row(session: AsyncSession, call_sid: str) -> ClaimedCall:
    """Lock an existing call's row until commit; NotFound if the CallSid was never seen."""
    row = (
        await session.execute(
            select(Call.id, Call.recruiter_id, Call.from_number, Call.missed_at, Call.obligation_id)
            .where(Call.call_sid == call_sid)
            .with_for_update()
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"no call {call_sid}")
    return ClaimedCall(row.id, row.recruiter_id, row.from_number, row.missed_at, row.obligation_id)


async def locked(session: AsyncSession, obligation_id: int) -> Obligation:
    """The obligation, locked until commit; NotFound if there is none."""
    obligation = await session.get(
        Obligation, obligation_id, with_for_update=True, populate_existing=True
    )
    if obligation is None:
        raise NotFound(f"obligation {obligation_id} does not exist")
    return obligation


async def open_for(session: AsyncSession, *, recruiter_id: int, caller: str) -> Obligation | None:
    """The open obligation of `recruiter_id` for `caller`, locked, if there is one."""
    return (
        await session.scalars(
            select(Obligation)
            .where(
                Obligation.recruiter_id == recruiter_id,
                Obligation.caller == caller,
                Obligation.status == ObligationStatus.OPEN,
            )
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).one_or_none()


async def close(
    session: AsyncSession,
    *,
    obligation: Obligation,
    reason: CloseReason,
    actor: str,
    at: datetime,
    detail: dict[str, Any] | None = None,
) -> bool:
    """Close a locked obligation; False (and no change) if it was closed already."""
    if obligation.status is ObligationStatus.CLOSED:
        return False
    at = max(at, obligation.opened_at)  # a back-dated close never precedes the opening
    obligation.status = ObligationStatus.CLOSED
    obligation.closed_at = at
    obligation.close_reason = reason
    obligation.next_reminder_at = None
    obligation.seconds_to_close = int((at - obligation.opened_at).total_seconds())
    obligation.updated_at = at
    closed = {"reason": reason.value} | (detail or {})
    await note(session, obligation.id, EventKind.CLOSED, actor=actor, at=at, **closed)
    OBLIGATIONS_CLOSED.labels(reason=reason.value).inc()
    return True


async def snooze(
    session: AsyncSession, *, obligation: Obligation, until: datetime, actor: str, at: datetime
) -> None:
    """Hold nudges until `until`; the next one goes then. Conflict if it is closed."""
    if obligation.status is ObligationStatus.CLOSED:
        raise Conflict(f"obligation {obligation.id} is closed")
    obligation.snoozed_until = until
    if obligation.next_reminder_at is not None:
        obligation.next_reminder_at = until
    obligation.updated_at = at
    await note(
        session, obligation.id, EventKind.SNOOZED, actor=actor, at=at, until=until.isoformat()
    )


async def record_attempt(
    session: AsyncSession,
    *,
    obligation: Obligation,
    at: datetime,
    outcome: str,
    call_sid: str,
    actor: str,
    policy: NudgePolicy,
) -> None:
    """An unanswered callback: on the timeline, and the next nudge moves; it stays open."""
    if obligation.status is ObligationStatus.CLOSED:
        return
    obligation.callback_attempts += 1
    moved = policy.after_attempt(at, obligation.reminders_sent, obligation.next_reminder_at)
    if moved is not None and obligation.snoozed_until is not None:
        moved = max(moved, obligation.snoozed_until)
    obligation.next_reminder_at = moved
    obligation.updated_at = at
    attempt = {"call_sid": call_sid, "outcome": outcome}
    await note(session, obligation.id, EventKind.CALLBACK_ATTEMPT, actor=actor, at=at, **attempt)
