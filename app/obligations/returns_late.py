"""A return reported after a later one closed the obligation it returned: it closes there.

Reports of two returns of the same caller (a callback, the caller getting through) can
arrive in either order. The earlier one, by Twilio's time, is what closed the obligation
open then; the later one is displaced and settles what is open at its own time, if any.
"""

from dataclasses import replace
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Call, CloseReason, Obligation, ObligationEvent
from app.obligations.returns import PartyCall, closed_of, note_party, party_call
from app.obligations.returns_split import split_after
from app.obligations.service import CallFacts, claim_call, close, open_for
from app.obligations.timeline import TWILIO, EventKind, recruiter_actor
from app.reminders.policy import NudgePolicy

_RETURNS = (CloseReason.CALLBACK, CloseReason.ANSWERED)


async def close_answered(
    session: AsyncSession, *, call: CallFacts, recruiter_id: int, caller: str, policy: NudgePolicy
) -> None:
    """The caller got through (at `call.at`): their open obligation closes, reason `answered`."""
    claimed = await claim_call(session, call=replace(call, recruiter_id=recruiter_id))
    await note_party(session, call_id=claimed.id, party=caller, at=call.at)
    obligation = await open_for(session, recruiter_id=recruiter_id, caller=caller)
    if obligation is None:
        await settle_late_return(
            session, call_id=claimed.id, recruiter_id=recruiter_id, party=caller, policy=policy
        )
        return
    detail = {"call_sid": call.call_sid}
    reason = CloseReason.ANSWERED
    await close(
        session, obligation=obligation, reason=reason, actor=TWILIO, at=call.at, detail=detail
    )
    await _link(session, [claimed.id], obligation.id)
    await split_after(session, obligation=obligation, policy=policy)


async def settle_late_return(
    session: AsyncSession, *, call_id: int, recruiter_id: int, party: str, policy: NudgePolicy
) -> bool:
    """Close, at this return's time, the obligation a later return closed; False if none."""
    returned = await party_call(session, call_id)
    if returned is None or returned.reason is None:
        return False
    obligation = await _closed_across(session, recruiter_id, party, returned.at)
    if obligation is None:
        return False
    displaced = await _displaced(session, obligation.id, returned.at)
    await _reclose(session, obligation, returned)
    await split_after(session, obligation=obligation, policy=policy)
    for later in displaced:
        await _settle(session, later, recruiter_id, party, policy)
    return True


async def _settle(
    session: AsyncSession, returned: PartyCall, recruiter_id: int, party: str, policy: NudgePolicy
) -> None:
    """A displaced return settles what was open at its time (perhaps split off just now)."""
    assert returned.reason is not None
    obligation = await open_for(session, recruiter_id=recruiter_id, caller=party)
    if obligation is None or obligation.opened_at > returned.at:
        await settle_late_return(
            session, call_id=returned.call_id, recruiter_id=recruiter_id, party=party, policy=policy
        )
        return
    await close(
        session,
        obligation=obligation,
        reason=returned.reason,
        actor=_actor(obligation, returned.reason),
        at=returned.at,
        detail={"call_sid": returned.call_sid, "late": True},
    )
    await _link(session, [returned.call_id], obligation.id)
    await split_after(session, obligation=obligation, policy=policy)


async def _closed_across(
    session: AsyncSession, recruiter_id: int, party: str, at: datetime
) -> Obligation | None:
    """The obligation (locked) open at `at` that a later return closed."""
    statement = (
        select(Obligation)
        .where(
            *closed_of(recruiter_id, party),
            Obligation.close_reason.in_(_RETURNS),
            Obligation.opened_at <= at,
            Obligation.closed_at > at,
        )
        .order_by(Obligation.opened_at)
        .limit(1)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).one_or_none()


async def _displaced(session: AsyncSession, obligation_id: int, at: datetime) -> list[PartyCall]:
    """The returns after `at` linked to the obligation (the one that closed it); unlinked."""
    ids = (
        await session.scalars(
            select(Call.id).where(
                Call.obligation_id == obligation_id,
                Call.party.is_not(None),
                Call.party_at > at,
                Call.missed_at.is_(None),
            )
        )
    ).all()
    found = [pc for pc in [await party_call(session, i) for i in ids] if pc and pc.reason]
    await _link(session, [pc.call_id for pc in found], None)
    return found


async def _reclose(session: AsyncSession, obligation: Obligation, returned: PartyCall) -> None:
    assert returned.reason is not None
    at = max(returned.at, obligation.opened_at)
    obligation.closed_at = at
    obligation.close_reason = returned.reason
    obligation.seconds_to_close = int((at - obligation.opened_at).total_seconds())
    obligation.updated_at = at
    detail = {"reason": returned.reason.value, "call_sid": returned.call_sid, "late": True}
    await session.execute(
        update(ObligationEvent)
        .where(
            ObligationEvent.obligation_id == obligation.id,
            ObligationEvent.kind == EventKind.CLOSED.value,
        )
        .values(at=at, actor=_actor(obligation, returned.reason), detail=detail)
    )
    await _link(session, [returned.call_id], obligation.id)


def _actor(obligation: Obligation, reason: CloseReason) -> str:
    return TWILIO if reason is CloseReason.ANSWERED else recruiter_actor(obligation.recruiter_id)


async def _link(session: AsyncSession, call_ids: list[int], obligation_id: int | None) -> None:
    if call_ids:
        await session.execute(
            update(Call).where(Call.id.in_(call_ids)).values(obligation_id=obligation_id)
        )
