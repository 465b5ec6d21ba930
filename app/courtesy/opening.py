"""The worker pass that makes each new obligation's promise and queues its caller's text-back.

Obligations open `pending` (both miss paths); a batch of them is claimed per transaction
(SKIP LOCKED on PostgreSQL, so several workers share the work), and each gets
`promised_by` and either one outbox SMS (`caller_text:<id>`, so at most one ever) or the
reason it gets none, in the same commit.
"""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.clock import Now
from app.courtesy.optouts import blocked
from app.courtesy.policy import CALLER_TEXT, Courtesy
from app.courtesy.sending import text_caller
from app.courtesy.texts import TextFacts, promise_words, text_back
from app.db import unit_of_work
from app.hours import WorkingHours
from app.models import CallerText, Obligation, ObligationStatus, Recruiter
from app.obligations.timeline import WORKER, EventKind, note
from app.passes import Stopping

BATCH = 50


async def open_promises(
    sessions: async_sessionmaker[AsyncSession], *, courtesy: Courtesy, now: Now, stopping: Stopping
) -> int:
    """Give every pending obligation its promise and text-back, a batch per commit; how many
    text-backs were queued."""
    queued = 0
    while not stopping():
        async with unit_of_work(sessions) as session:
            at = now()
            batch = await _claim(session)
            for obligation, recruiter in batch:
                queued += await _promise(session, obligation, recruiter, courtesy, at)
        if len(batch) < BATCH:
            break
    return queued


def pending_batch() -> Select[Obligation, Recruiter]:
    """A batch of pending obligations with their recruiters, read through the partial index
    on pending rows (the literal lets either planner match its WHERE)."""
    return (
        select(Obligation, Recruiter)
        .join(Recruiter, Recruiter.id == Obligation.recruiter_id)
        .where(Obligation.caller_text == literal_column(f"'{CallerText.PENDING.value}'"))
        .order_by(Obligation.id)
        .limit(BATCH)
    )


async def _claim(session: AsyncSession) -> Sequence[tuple[Obligation, Recruiter]]:
    rows = await session.execute(pending_batch().with_for_update(of=Obligation, skip_locked=True))
    return [(row[0], row[1]) for row in rows]


async def _promise(
    session: AsyncSession,
    obligation: Obligation,
    recruiter: Recruiter,
    courtesy: Courtesy,
    at: datetime,
) -> int:
    """Set the promise; queue the text-back, or note why there is none. 1 if queued."""
    hours = WorkingHours.of(recruiter.timezone, recruiter.working_hours)
    obligation.promised_by = hours.add_working(obligation.opened_at, courtesy.return_within)
    obligation.updated_at = at
    send_at = courtesy.hours.in_zone(recruiter.timezone).next_open(at)
    outcome = await _why_not(session, obligation, recruiter, courtesy, send_at)
    detail: dict[str, object] = {"promised_by": obligation.promised_by.isoformat()}
    if outcome is None:
        detail["outbox_id"] = await _queue(session, obligation, recruiter, courtesy, send_at, at)
        outcome = CallerText.QUEUED
    obligation.caller_text = outcome
    if outcome is CallerText.DISABLED:  # switched off for everyone: no line on every timeline
        return 0
    detail["caller_text"] = outcome.value
    await note(session, obligation.id, EventKind.CALLER_TEXT, actor=WORKER, at=at, **detail)
    return 1 if outcome is CallerText.QUEUED else 0


async def _why_not(
    session: AsyncSession,
    obligation: Obligation,
    recruiter: Recruiter,
    courtesy: Courtesy,
    send_at: datetime,
) -> CallerText | None:
    """Why this caller gets no text-back, or None: they get one."""
    if obligation.caller is None:
        return CallerText.WITHHELD
    if obligation.status is ObligationStatus.CLOSED:
        return CallerText.CANCELLED
    if not courtesy.enabled:
        return CallerText.DISABLED
    if not recruiter.caller_text:
        return CallerText.RECRUITER_OFF
    reason = await blocked(session, line=recruiter.line, caller=obligation.caller)
    if reason is not None:
        return CallerText.LANDLINE if reason == CallerText.LANDLINE else CallerText.OPTED_OUT
    assert obligation.promised_by is not None
    if send_at >= obligation.promised_by:
        return CallerText.TOO_LATE
    return None


async def _queue(
    session: AsyncSession,
    obligation: Obligation,
    recruiter: Recruiter,
    courtesy: Courtesy,
    send_at: datetime,
    at: datetime,
) -> int | None:
    assert obligation.caller is not None and obligation.promised_by is not None
    facts = TextFacts(
        caller_name=obligation.caller_name,
        recruiter=recruiter.name,
        team=courtesy.team_name,
        promise=promise_words(obligation.promised_by, send_at, recruiter.timezone),
    )
    body = text_back(facts, recruiter.caller_text_template)
    return await text_caller(
        session,
        purpose=CALLER_TEXT,
        obligation=obligation,
        recruiter=recruiter,
        body=body,
        at=at,
        not_before=send_at,
    )
