"""An inbound call's status callback in one PostgreSQL statement: observe mode's hot path.

`forwarding.on_status` logs the status, looks for a kept voicemail and an unanswered dial
leg, and counts a miss: five round trips through the session. On PostgreSQL, for an
inbound call from a phone number, the same fits one statement run through the driver as
its own transaction: the call's row is locked if it exists (its callbacks take turns) and
updated by `call_log`'s rules, or inserted; a call that ended unanswered on a recruiter's
line is counted by `miss_pg`'s obligation side. What the statement does not decide (a
voicemail the fallback kept, a miss made before a call with its caller already reported)
it leaves unwritten, and the general path runs instead.
"""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.db_driver import driver_of
from app.obligations import miss_pg
from app.phones import caller_number
from app.reminders.policy import NudgePolicy
from app.voice.call_log import DIAL_LEG, INBOUND, TERMINAL, UNANSWERED, StatusReport
from app.voice.softphone import identity_of
from app.voice.voicemails import RECORDED


def _listed(statuses: frozenset[str]) -> str:
    return ", ".join(f"'{status}'" for status in sorted(statuses))


LOG_STATUS = (
    """
WITH existing AS (
    SELECT id, recruiter_id, missed_at, status, sequence_number FROM calls
    WHERE call_sid = %(call_sid)s FOR UPDATE
), rule AS (
    -- a status replaces the logged one only when newer; a terminal one is never replaced
    SELECT id, status NOT IN ("""
    + _listed(TERMINAL)
    + """) AND (%(terminal)s OR sequence_number IS NULL
        OR %(sequence_number)s > sequence_number) AS newer
    FROM existing
), who AS (
    -- a call's row names the recruiter whose line it rang (call_log.log_status)
    SELECT COALESCE((SELECT recruiter_id FROM existing),
        (SELECT id FROM recruiters WHERE line = %(to_number)s AND active)) AS recruiter_id
), ended AS (
    SELECT recruiter_id FROM who WHERE %(terminal)s AND recruiter_id IS NOT NULL
), kept AS (
    -- a voicemail the fallback took before the call was known: the general path adopts it
    SELECT 1 AS one FROM voicemails
    WHERE call_sid = %(call_sid)s AND obligation_id IS NULL AND recording_status = '"""
    + RECORDED
    + """'
    LIMIT 1
), candidate AS (
    SELECT 1 AS one FROM ended
    WHERE NOT EXISTS (SELECT 1 FROM kept)
      AND NOT EXISTS (SELECT 1 FROM existing WHERE missed_at IS NOT NULL)
      AND (%(unanswered)s OR EXISTS (
          -- another system took a voicemail after the leg to the mobile went unanswered
          SELECT 1 FROM calls AS leg JOIN recruiters AS r ON r.id = ended.recruiter_id
          WHERE leg.parent_call_sid = %(call_sid)s AND leg.direction = '"""
    + DIAL_LEG
    + """'
            AND leg.status IN ("""
    + _listed(UNANSWERED)
    + """) AND leg.to_number = r.mobile))
),"""
    + miss_pg.OBLIGATION_CTES.format(recruiter="(SELECT recruiter_id FROM who)")
    + """, deferred AS (
    SELECT 1 AS one
    WHERE EXISTS (SELECT 1 FROM late)
       OR (EXISTS (SELECT 1 FROM ended) AND EXISTS (SELECT 1 FROM kept))
), updated AS (
    UPDATE calls SET
        status = CASE WHEN newer THEN %(status)s ELSE calls.status END,
        sequence_number = CASE WHEN newer THEN %(sequence_number)s ELSE calls.sequence_number END,
        duration_seconds = COALESCE(%(duration_seconds)s, calls.duration_seconds),
        from_number = CASE WHEN %(from_number)s <> '' THEN %(from_number)s
            ELSE calls.from_number END,
        to_number = CASE WHEN %(to_number)s <> '' THEN %(to_number)s ELSE calls.to_number END,
        parent_call_sid = COALESCE(%(parent_call_sid)s, calls.parent_call_sid),
        caller_name = COALESCE(%(caller_name)s, calls.caller_name),
        recruiter_id = (SELECT recruiter_id FROM who),
        missed_at = CASE WHEN EXISTS (SELECT 1 FROM eligible) THEN %(at)s ELSE calls.missed_at END,
        obligation_id = COALESCE((SELECT id FROM target), calls.obligation_id),
        updated_at = %(at)s
    FROM rule
    WHERE calls.id = rule.id AND NOT EXISTS (SELECT 1 FROM deferred)
), inserted AS (
    INSERT INTO calls (call_sid, parent_call_sid, direction, from_number, to_number,
        caller_name, status, sequence_number, duration_seconds, started_at, updated_at,
        recruiter_id, missed_at, obligation_id)
    SELECT %(call_sid)s, %(parent_call_sid)s, %(direction)s, %(from_number)s, %(to_number)s,
        %(caller_name)s, %(status)s, %(sequence_number)s, %(duration_seconds)s, %(at)s, %(at)s,
        (SELECT recruiter_id FROM who),
        CASE WHEN EXISTS (SELECT 1 FROM eligible) THEN %(at)s END, (SELECT id FROM target)
    WHERE NOT EXISTS (SELECT 1 FROM existing) AND NOT EXISTS (SELECT 1 FROM deferred)
)
SELECT EXISTS (SELECT 1 FROM deferred) AS deferred, EXISTS (SELECT 1 FROM eligible) AS counted,
       false AS late, (SELECT id FROM target) AS obligation_id,
       (SELECT missed_calls FROM target) AS missed_calls
"""
)


async def log_inbound(
    session: AsyncSession, *, report: StatusReport, region: str, policy: NudgePolicy
) -> bool | None:
    """Log an inbound call's status and count its miss, in one statement: whether a miss was
    counted; None, with nothing written, where the general path decides."""
    call = report.call
    engine = session.bind
    if (
        call.direction != INBOUND
        or not call.from_number
        or identity_of(call.from_number) is not None
        or session.in_transaction()
        or not isinstance(engine, AsyncEngine)
        or driver_of(engine) is None
    ):
        return None
    values = call.row_values() | _status_values(report, region=region, policy=policy)
    row = await miss_pg.run_alone(engine, LOG_STATUS, values)
    if row.deferred:
        return None
    result = miss_pg.result_of(row)
    return result is not None and result.counted


def _status_values(report: StatusReport, *, region: str, policy: NudgePolicy) -> dict[str, Any]:
    call = report.call
    return {
        "sequence_number": report.sequence_number,
        "duration_seconds": report.duration_seconds,
        "terminal": call.status in TERMINAL,
        "unanswered": call.status in UNANSWERED,
        "caller": caller_number(call.from_number, region),
        "first_due": policy.first_due(call.at),
    }
