"""Callbacks: a recruiter's call to someone they owe one closes the obligation, or is an attempt.

A call counts when it goes out from the recruiter's line, or is a leg of a call the
service started for them (click-to-call, the softphone route), to the caller of one of
their open obligations. `completed` means it connected: closed, reason `callback`.
`busy`, `no-answer`, `failed` or `canceled`: an attempt on the timeline; it stays open and
its next nudge moves.

Twilio reports a dialled leg's end up to twice (the leg's status callback and the Dial
action that dialled it), in either order, perhaps at once, perhaps again. Each report
locks the leg's row in the call log; the first links the row to the obligation it
settled, and a report that finds the link does nothing more.
"""

from dataclasses import replace
from enum import StrEnum

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Call, CloseReason, Obligation, ObligationStatus, Recruiter
from app.obligations import returns, returns_late, returns_split
from app.obligations.service import CallFacts, claim_call, close, connected_at, record_attempt
from app.obligations.timeline import recruiter_actor
from app.phones import caller_number
from app.reminders.policy import NudgePolicy
from app.voice.call_log import DIAL_LEG, TERMINAL, UNANSWERED
from app.voice.softphone import SCHEMES

# A Dial action's DialCallStatus for a leg that connected ("answered": a conference's word).
DIAL_CONNECTED = frozenset({"completed", "answered"})


class Settled(StrEnum):
    """What a report of a recruiter's call did (also the webhook metric's outcome label)."""

    CLOSED = "callback"
    ATTEMPT = "attempt"
    REPEATED = "repeated"  # this call had settled its obligation already
    NOT_OWED = "not_owed"  # not a call to anybody this recruiter owes one
    UNFINISHED = "unfinished"  # the call has not ended yet


async def settle(
    session: AsyncSession,
    *,
    leg: CallFacts,
    recruiter: Recruiter,
    talked_seconds: int | None,
    region: str,
    policy: NudgePolicy,
) -> Settled:
    """The recruiter's call `leg` ended: close the obligation it returned, or record the try."""
    if leg.status not in TERMINAL:
        return Settled.UNFINISHED
    callee = caller_number(leg.to_number, region)
    if callee is None or callee == recruiter.mobile:
        return Settled.NOT_OWED  # click-to-call's first leg rings the recruiter's own mobile
    claimed = await claim_call(session, call=replace(leg, recruiter_id=recruiter.id))
    at = leg.at if leg.status in UNANSWERED else connected_at(leg.at, talked_seconds)
    await returns.note_party(session, call_id=claimed.id, party=callee, at=at)
    if claimed.obligation_id is not None:
        return Settled.REPEATED
    obligation = await _returned_by(session, call_id=claimed.id, recruiter=recruiter, callee=callee)
    if obligation is None:
        return await _settle_late(
            session,
            call_id=claimed.id,
            leg=leg,
            recruiter=recruiter,
            callee=callee,
            policy=policy,
        )
    await session.execute(
        update(Call)
        .where(Call.id == claimed.id)
        .values(obligation_id=obligation.id, updated_at=leg.at)
    )
    return await _close_or_attempt(
        session, obligation=obligation, leg=leg, talked_seconds=talked_seconds, policy=policy
    )


async def _close_or_attempt(
    session: AsyncSession,
    *,
    obligation: Obligation,
    leg: CallFacts,
    talked_seconds: int | None,
    policy: NudgePolicy,
) -> Settled:
    actor = recruiter_actor(obligation.recruiter_id)
    if leg.status in UNANSWERED:
        await record_attempt(
            session,
            obligation=obligation,
            at=leg.at,
            outcome=leg.status,
            call_sid=leg.call_sid,
            actor=actor,
            policy=policy,
        )
        return Settled.ATTEMPT
    reason = CloseReason.CALLBACK
    detail = {"call_sid": leg.call_sid}
    # Reported when the call ends; the obligation was kept when the call connected.
    at = connected_at(leg.at, talked_seconds)
    await close(session, obligation=obligation, reason=reason, actor=actor, at=at, detail=detail)
    await returns_split.split_after(session, obligation=obligation, policy=policy)
    return Settled.CLOSED


async def _settle_late(
    session: AsyncSession,
    *,
    call_id: int,
    leg: CallFacts,
    recruiter: Recruiter,
    callee: str,
    policy: NudgePolicy,
) -> Settled:
    """No obligation to `callee` was open when the call was first seen: it may still count
    for one that a later report closed first, as an attempt or as its return."""
    if leg.status in UNANSWERED:
        attempted = await returns.attempt_on_closed(
            session,
            call_id=call_id,
            call_sid=leg.call_sid,
            recruiter_id=recruiter.id,
            callee=callee,
            at=leg.at,
        )
        return Settled.ATTEMPT if attempted else Settled.NOT_OWED
    returned = await returns_late.settle_late_return(
        session, call_id=call_id, recruiter_id=recruiter.id, party=callee, policy=policy
    )
    return Settled.CLOSED if returned else Settled.NOT_OWED


async def _returned_by(
    session: AsyncSession, *, call_id: int, recruiter: Recruiter, callee: str
) -> Obligation | None:
    """The open obligation (locked) that a call returns: for its callee, opened before the
    call was first seen. A late repeat of a report of an earlier call, made before the
    caller's miss, must not close the obligation that miss opened."""
    first_seen = select(Call.started_at).where(Call.id == call_id).scalar_subquery()
    statement = (
        select(Obligation)
        .where(
            Obligation.recruiter_id == recruiter.id,
            Obligation.caller == callee,
            Obligation.status == ObligationStatus.OPEN,
            Obligation.opened_at <= first_seen,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).one_or_none()


async def on_reported_call(
    session: AsyncSession,
    *,
    call: CallFacts,
    recruiter_id: int | None,
    talked_seconds: int | None,
    region: str,
    policy: NudgePolicy,
) -> Settled:
    """The status callback of an outbound call or dial leg; `recruiter_id` owns its caller ID."""
    if call.status not in TERMINAL:
        return Settled.UNFINISHED  # before any look-up: whose call it is does not matter yet
    if recruiter_id is None and call.parent_call_sid is not None:
        recruiter_id = await _started_for(session, call.parent_call_sid)
    recruiter = await session.get(Recruiter, recruiter_id) if recruiter_id is not None else None
    if recruiter is None:
        return Settled.NOT_OWED
    return await settle(
        session,
        leg=call,
        recruiter=recruiter,
        talked_seconds=talked_seconds,
        region=region,
        policy=policy,
    )


async def on_dial_action(
    session: AsyncSession,
    *,
    parent: CallFacts,
    leg_sid: str | None,
    dial_status: str,
    talked_seconds: int | None,
    obligation_id: int | None,
    region: str,
    policy: NudgePolicy,
) -> Settled:
    """The Dial action of a call the service dialled to return `obligation_id`."""
    obligation = await session.get(Obligation, obligation_id) if obligation_id else None
    if not leg_sid or obligation is None or obligation.caller is None:
        return Settled.NOT_OWED
    recruiter = await session.get(Recruiter, obligation.recruiter_id)
    if recruiter is None:
        return Settled.NOT_OWED
    # The action names the leg but not its numbers: the dialled one is the obligation's caller.
    leg = CallFacts(
        call_sid=leg_sid,
        direction=DIAL_LEG,
        from_number=recruiter.line,
        to_number=obligation.caller,
        status="completed" if dial_status in DIAL_CONNECTED else dial_status,
        at=parent.at,
        parent_call_sid=parent.call_sid,
    )
    return await settle(
        session,
        leg=leg,
        recruiter=recruiter,
        talked_seconds=talked_seconds,
        region=region,
        policy=policy,
    )


def attempt_noted(settled: Settled, dial_status: str) -> bool:
    """Whether a Dial action's call went unanswered and is on the timeline as an attempt (put
    there by this report, or by the leg's status callback that came first)."""
    noted = settled in (Settled.ATTEMPT, Settled.REPEATED)
    return noted and dial_status not in DIAL_CONNECTED


async def _started_for(session: AsyncSession, parent_call_sid: str) -> int | None:
    """The recruiter of a parent call the service started for them, if it was one.

    Those are the calls it placed (click-to-call rings the recruiter first) and the calls
    of their softphones; an inbound call from a caller is not.
    """
    recruiter_id: int | None = await session.scalar(
        select(Call.recruiter_id).where(
            Call.call_sid == parent_call_sid,
            or_(
                Call.direction.startswith("outbound"),
                *[Call.from_number.startswith(scheme) for scheme in SCHEMES],
            ),
        )
    )
    return recruiter_id
