"""A missed call counted in one PostgreSQL statement: the Dial action's hot path.

`obligations.record_miss` takes four statements inside a transaction (six round trips
with BEGIN and COMMIT). On PostgreSQL the same work fits one statement, run in
autocommit, so it is its own transaction: the call's row is locked if it exists (its
callbacks take turns) or inserted if not, the open obligation is upserted (or a later-
closed one takes a late miss), the call is marked and linked, and the timeline gets its
line. Twin deliveries of a call never seen before race on the CallSid's unique key: the
loser's whole statement rolls back and, run again, finds the call already counted.
"""

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.db_driver import driver_of
from app.metrics import OBLIGATIONS_OPENED
from app.obligations.service import CallFacts, MissResult
from app.reminders.policy import NudgePolicy

_CALL_SID_KEY = "uq_calls_call_sid"

# The obligation's side of a miss, shared by this module's statement and observe mode's
# (`app.voice.status_pg`). The statement before it defines `candidate`: one row when the
# call's miss counts, lateness aside; `{recruiter}` is whose line it rang.
OBLIGATION_CTES = """
late AS (
    -- the recruiter reached (or tried) this caller after the miss: app.obligations.returns decides
    SELECT 1 AS one FROM calls
    WHERE recruiter_id = {recruiter} AND party = %(caller)s AND party IS NOT NULL
      AND party_at >= %(at)s AND obligation_id IS NULL AND EXISTS (SELECT 1 FROM candidate)
    LIMIT 1
), eligible AS (
    SELECT one FROM candidate WHERE NOT EXISTS (SELECT 1 FROM late)
), closed_later AS (
    SELECT id FROM obligations
    WHERE recruiter_id = {recruiter} AND caller = %(caller)s
      AND status = 'closed' AND closed_at >= %(at)s
    ORDER BY closed_at LIMIT 1
), merged AS (
    INSERT INTO obligations AS o (recruiter_id, caller, caller_name, status, opened_at,
        last_missed_at, missed_calls, reminders_sent, next_reminder_at, callback_attempts,
        updated_at, caller_text)
    SELECT {recruiter}, %(caller)s, %(caller_name)s, 'open', %(at)s, %(at)s, 1, 0,
        %(first_due)s, 0, %(at)s, 'pending'
    FROM eligible
    WHERE %(caller)s::varchar IS NOT NULL AND NOT EXISTS (SELECT 1 FROM closed_later)
    ON CONFLICT (recruiter_id, caller) WHERE status = 'open' DO UPDATE SET
        missed_calls = o.missed_calls + 1,
        last_missed_at = GREATEST(o.last_missed_at, EXCLUDED.last_missed_at),
        opened_at = LEAST(o.opened_at, EXCLUDED.opened_at),
        -- a repeat call brings the next nudge forward (miss_sql._pulled_forward's rule)
        next_reminder_at = CASE
            WHEN o.next_reminder_at IS NULL THEN NULL
            WHEN EXCLUDED.next_reminder_at >= o.next_reminder_at THEN o.next_reminder_at
            WHEN o.snoozed_until IS NULL THEN EXCLUDED.next_reminder_at
            WHEN EXCLUDED.next_reminder_at >= o.snoozed_until THEN EXCLUDED.next_reminder_at
            WHEN o.snoozed_until < o.next_reminder_at THEN o.snoozed_until
            ELSE o.next_reminder_at END,
        caller_name = COALESCE(EXCLUDED.caller_name, o.caller_name),
        updated_at = EXCLUDED.updated_at
    RETURNING o.id, o.missed_calls
), joined AS (
    UPDATE obligations AS o
    SET missed_calls = o.missed_calls + 1,
        last_missed_at = GREATEST(o.last_missed_at, %(at)s), updated_at = %(at)s,
        -- the obligation was open since the earliest of its misses (obligations.returns too)
        opened_at = LEAST(o.opened_at, %(at)s),
        seconds_to_close = CAST(EXTRACT(EPOCH FROM o.closed_at - LEAST(o.opened_at, %(at)s))
            AS integer)
    WHERE o.id = (SELECT id FROM closed_later) AND EXISTS (SELECT 1 FROM eligible)
    RETURNING o.id, o.missed_calls
), target AS (
    SELECT id, missed_calls FROM merged UNION ALL SELECT id, missed_calls FROM joined
), event AS (
    INSERT INTO obligation_events (obligation_id, at, kind, actor, detail)
    SELECT id, %(at)s, CASE WHEN missed_calls = 1 THEN 'opened' ELSE 'missed_call' END,
        'twilio', json_build_object('call_sid', %(call_sid)s::text, 'missed_calls', missed_calls)
    FROM target
), hook AS (
    -- and its webhook event (webhooks.events.emit), while some subscription is enabled
    INSERT INTO webhook_events (type, obligation_id, at, data)
    SELECT CASE WHEN missed_calls = 1 THEN 'obligation.opened'
        ELSE 'obligation.missed_again' END, id, %(at)s,
        json_build_object('call_sid', %(call_sid)s::text, 'missed_calls', missed_calls)
    FROM target WHERE EXISTS (SELECT 1 FROM webhook_subscriptions WHERE enabled)
)"""

COUNT_MISS = (
    """
WITH existing AS (
    SELECT id, missed_at, obligation_id FROM calls WHERE call_sid = %(call_sid)s FOR UPDATE
), candidate AS (
    SELECT 1 AS one WHERE NOT EXISTS (SELECT 1 FROM existing WHERE missed_at IS NOT NULL)
),"""
    + OBLIGATION_CTES.format(recruiter="%(recruiter_id)s")
    + """, marked AS (
    UPDATE calls SET missed_at = %(at)s, updated_at = %(at)s,
        obligation_id = COALESCE((SELECT id FROM target), calls.obligation_id),
        -- a call first logged as ringing a line nobody had (claim_call's rule)
        recruiter_id = COALESCE(calls.recruiter_id, %(recruiter_id)s)
    WHERE calls.id = (SELECT id FROM existing) AND EXISTS (SELECT 1 FROM eligible)
), inserted AS (
    INSERT INTO calls (call_sid, parent_call_sid, direction, from_number, to_number,
        caller_name, status, started_at, updated_at, recruiter_id, missed_at, obligation_id)
    SELECT %(call_sid)s, %(parent_call_sid)s, %(direction)s, %(from_number)s, %(to_number)s,
        %(caller_name)s, %(status)s, %(at)s, %(at)s, %(recruiter_id)s, %(at)s,
        (SELECT id FROM target)
    FROM eligible WHERE NOT EXISTS (SELECT 1 FROM existing)
)
SELECT EXISTS (SELECT 1 FROM late) AS late, EXISTS (SELECT 1 FROM eligible) AS counted,
       COALESCE((SELECT id FROM target), (SELECT obligation_id FROM existing)) AS obligation_id,
       (SELECT missed_calls FROM target) AS missed_calls
"""
)


async def count_miss(
    engine: AsyncEngine,
    *,
    call: CallFacts,
    recruiter_id: int,
    caller: str | None,
    policy: NudgePolicy,
) -> MissResult | None:
    """`obligations.record_miss` as one atomic statement of its own (PostgreSQL only); None,
    with nothing written, for a miss made before a call with its caller already reported."""
    values = _values(call, recruiter_id=recruiter_id, caller=caller, policy=policy)
    return result_of(await run_alone(engine, COUNT_MISS, values))


async def run_alone(engine: AsyncEngine, statement: str, values: dict[str, Any]) -> Any:
    """The row of a one-statement miss run as its own transaction; run once more when a twin
    delivery of a call never seen before won the race to insert it (now it finds it)."""
    try:
        return await _fetch_one(engine, statement, values)
    except IntegrityError as exc:
        if not _twin_call(exc):
            raise
        return await _fetch_one(engine, statement, values)


async def _fetch_one(engine: AsyncEngine, statement: str, values: dict[str, Any]) -> Any:
    direct = driver_of(engine)
    if direct is not None:  # the service's own engine: straight through psycopg, prepared
        return await direct.fetch_one(statement, values)
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        return (await autocommit.exec_driver_sql(statement, values)).one()


async def count_miss_in(
    session: AsyncSession,
    *,
    call: CallFacts,
    recruiter_id: int,
    caller: str | None,
    policy: NudgePolicy,
) -> MissResult | None:
    """`count_miss` as one statement of the session's transaction, for a call the request has
    logged already: its row exists and is locked, so no twin races on its CallSid. None, with
    nothing written, for a late miss (as `count_miss`)."""
    values = _values(call, recruiter_id=recruiter_id, caller=caller, policy=policy)
    connection = await session.connection()
    return result_of((await connection.exec_driver_sql(COUNT_MISS, values)).one())


def _values(
    call: CallFacts, *, recruiter_id: int, caller: str | None, policy: NudgePolicy
) -> dict[str, Any]:
    return call.row_values() | {
        "recruiter_id": recruiter_id,
        "caller": caller,
        "first_due": policy.first_due(call.at),
    }


def result_of(row: Any) -> MissResult | None:
    """The miss a one-statement row reports; None for a late miss (nothing was written)."""
    if row.late:
        return None
    result = MissResult(row.obligation_id, counted=row.counted, opened=row.missed_calls == 1)
    if result.opened:
        OBLIGATIONS_OPENED.inc()
    return result


def _twin_call(exc: IntegrityError) -> bool:
    diagnostics = getattr(exc.orig, "diag", None)
    return getattr(diagnostics, "constraint_name", None) == _CALL_SID_KEY
