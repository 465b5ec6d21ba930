"""The forward flow's decisions: whose line rang, taken or missed, and observe mode's misses.

A miss counts once per parent CallSid, whichever webhook reports it first: the Dial
action, the call's own status callback, or (observe mode) the status of its dial leg.
Any other outbound call that ends may be a recruiter calling back (`app.voice.callbacks`).
"""

from dataclasses import replace
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.models import Recruiter
from app.obligations import miss_pg, returns, returns_late
from app.obligations.service import CallFacts, claim_call, connected_at
from app.phones import caller_number
from app.recruiters.service import active_by_line, active_by_mobile
from app.reminders.policy import NudgePolicy
from app.voice import callbacks, status_pg, voicemails
from app.voice.call_log import (
    DIAL_LEG,
    INBOUND,
    TERMINAL,
    UNANSWERED,
    LoggedCall,
    StatusReport,
    has_unanswered_leg,
    log_status,
)
from app.voice.softphone import identity_of


class Outcome(StrEnum):
    """What a voice webhook did (also the `outcome` label of the webhook metric)."""

    FORWARDED = "forwarded"
    UNKNOWN_LINE = "unknown_line"
    ANSWERED = "answered"
    MISSED = "missed"
    REPEATED = "repeated"  # a miss this CallSid had already counted
    WAITING = "waiting"  # a missed dial leg whose caller the parent call's callback will name
    LOGGED = "logged"


async def on_incoming(session: AsyncSession, *, call: CallFacts) -> Recruiter | None:
    """Log the call; the active recruiter whose line it rang, if any."""
    recruiter = await active_by_line(session, call.to_number)
    await claim_call(session, call=replace(call, recruiter_id=recruiter.id if recruiter else None))
    return recruiter


async def on_dial_result(
    session: AsyncSession,
    *,
    call: CallFacts,
    recruiter_id: int,
    bridged: bool,
    talked_seconds: int | None,
    region: str,
    policy: NudgePolicy,
) -> Outcome:
    """Bridged: the caller got through, so their open obligation closes. Else: a miss."""
    caller = caller_number(call.from_number, region)
    if not bridged:
        return await _miss(
            session, call=call, recruiter_id=recruiter_id, caller=caller, policy=policy
        )
    if caller is not None:
        # The Dial action comes when the conversation ends; the call was returned when it began.
        taken = replace(call, at=connected_at(call.at, talked_seconds))
        await returns_late.close_answered(
            session, call=taken, recruiter_id=recruiter_id, caller=caller, policy=policy
        )
    return Outcome.ANSWERED


async def _miss(
    session: AsyncSession,
    *,
    call: CallFacts,
    recruiter_id: int,
    caller: str | None,
    policy: NudgePolicy,
) -> Outcome:
    engine = session.bind
    result = None
    if isinstance(engine, AsyncEngine) and engine.dialect.name == "postgresql":
        if not session.in_transaction():
            # Nothing else happened in this request: on PostgreSQL the miss is one statement.
            result = await miss_pg.count_miss(
                engine, call=call, recruiter_id=recruiter_id, caller=caller, policy=policy
            )
        else:
            # The status callbacks have logged (and locked) the call: one statement more.
            result = await miss_pg.count_miss_in(
                session, call=call, recruiter_id=recruiter_id, caller=caller, policy=policy
            )
    if result is None:  # SQLite, or a late miss: obligations.returns decides
        result = await returns.record_miss(
            session, call=call, recruiter_id=recruiter_id, caller=caller, policy=policy
        )
    return Outcome.MISSED if result.counted else Outcome.REPEATED


async def on_status(
    session: AsyncSession, *, report: StatusReport, region: str, policy: NudgePolicy
) -> Outcome | callbacks.Settled:
    """Log the status; a call or dial leg that ended unanswered is a miss (observe mode), and
    an outbound call that ended may be a callback."""
    counted = await status_pg.log_inbound(session, report=report, region=region, policy=policy)
    if counted is not None:  # PostgreSQL: all of it was one statement
        return Outcome.MISSED if counted else Outcome.LOGGED
    logged = await log_status(session, report=report)
    call = report.call
    if call.direction == INBOUND:
        if identity_of(call.from_number) is not None:
            return Outcome.LOGGED  # a softphone calling out: its dialled leg is what counts
        return await _inbound_status(
            session, report=report, logged=logged, region=region, policy=policy
        )
    if call.direction.startswith("outbound") and call.status in TERMINAL:
        return await _outbound_ended(
            session,
            call=call,
            logged=logged,
            talked_seconds=report.duration_seconds,
            region=region,
            policy=policy,
        )
    return Outcome.LOGGED


async def _inbound_status(
    session: AsyncSession,
    *,
    report: StatusReport,
    logged: LoggedCall,
    region: str,
    policy: NudgePolicy,
) -> Outcome:
    call = report.call
    if logged.recruiter_id is None or call.status not in TERMINAL:
        return Outcome.LOGGED
    # A voicemail the fallback took while the call was unknown (its recording's callback came
    # first) is the call's miss, now that the call is known.
    if await voicemails.adopt_kept_of_call(
        session, call_sid=call.call_sid, at=call.at, region=region, policy=policy
    ):
        return Outcome.MISSED
    if logged.missed_at is not None:
        return Outcome.LOGGED
    # Another system may have taken a voicemail (`completed`) after its leg to the mobile
    # went unanswered; that leg's callback may have come first.
    if call.status not in UNANSWERED and not await has_unanswered_leg(
        session, call_sid=call.call_sid, recruiter_id=logged.recruiter_id
    ):
        return Outcome.LOGGED
    caller = caller_number(logged.from_number, region)
    return await _miss(
        session, call=call, recruiter_id=logged.recruiter_id, caller=caller, policy=policy
    )


async def _outbound_ended(
    session: AsyncSession,
    *,
    call: CallFacts,
    logged: LoggedCall,
    talked_seconds: int | None,
    region: str,
    policy: NudgePolicy,
) -> Outcome | callbacks.Settled:
    """A dial leg to a recruiter's mobile is the forward flow's; other calls may be callbacks."""
    if call.direction == DIAL_LEG:
        recruiter = await active_by_mobile(session, call.to_number)
        if recruiter is not None:
            return await _dial_leg_status(
                session, leg=call, recruiter=recruiter, region=region, policy=policy
            )
    return await callbacks.on_reported_call(
        session,
        call=call,
        recruiter_id=logged.recruiter_id,
        talked_seconds=talked_seconds,
        region=region,
        policy=policy,
    )


async def _dial_leg_status(
    session: AsyncSession, *, leg: CallFacts, recruiter: Recruiter, region: str, policy: NudgePolicy
) -> Outcome:
    """A leg from a line to the recruiter's mobile that went unanswered: its parent is missed."""
    if leg.parent_call_sid is None or leg.status not in UNANSWERED:
        return Outcome.LOGGED
    # Until the parent's own webhooks arrive, all we know of it is this leg's caller ID.
    parent = replace(
        leg,
        call_sid=leg.parent_call_sid,
        parent_call_sid=None,
        direction=INBOUND,
        to_number=recruiter.line,
        status="in-progress",
        recruiter_id=recruiter.id,
    )
    claimed = await claim_call(session, call=parent)
    if claimed.missed_at is not None:
        return Outcome.REPEATED
    if claimed.recruiter_id != recruiter.id:
        return Outcome.LOGGED
    if claimed.from_number == recruiter.line:
        # The leg showed the line as caller ID; the parent's status callback names the
        # caller and, seeing this unanswered leg, counts the miss.
        return Outcome.WAITING
    parent = replace(parent, from_number=claimed.from_number)
    caller = caller_number(claimed.from_number, region)
    return await _miss(
        session, call=parent, recruiter_id=recruiter.id, caller=caller, policy=policy
    )
