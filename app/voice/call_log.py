"""The call log: every CallSid seen, its latest status and its duration.

Twilio's status callbacks are not ordered; each carries a `SequenceNumber`. A status
replaces the logged one only when it is newer, and a terminal status is never replaced.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import core_table, value_param, values_for
from app.models import Call, Recruiter
from app.obligations.service import CallFacts

INBOUND = "inbound"
DIAL_LEG = "outbound-dial"
# The terminal statuses of a call nobody took.
UNANSWERED = frozenset({"busy", "no-answer", "failed", "canceled"})
TERMINAL = UNANSWERED | {"completed"}


@dataclass(frozen=True)
class StatusReport:
    """One status callback: the call's facts, with Twilio's ordering number and duration."""

    call: CallFacts
    sequence_number: int | None
    duration_seconds: int | None


@dataclass(frozen=True)
class LoggedCall:
    """A call's row after a status was logged."""

    recruiter_id: int | None
    from_number: str
    missed_at: datetime | None


async def log_status(session: AsyncSession, *, report: StatusReport) -> LoggedCall:
    """Upsert the call's row with this status, unless a newer or terminal one is logged."""
    call = report.call
    values = call.row_values() | {
        "sequence_number": report.sequence_number,
        "duration_seconds": report.duration_seconds,
        # A call's row names the recruiter whose line it rang, or whose line calls out.
        "line": call.to_number if call.direction == INBOUND else call.from_number,
    }
    statement = _statements(_dialect(session)).log_status
    row = (await session.execute(statement, values_for(values))).one()
    return LoggedCall(row.recruiter_id, row.from_number, row.missed_at)


async def has_unanswered_leg(session: AsyncSession, *, call_sid: str, recruiter_id: int) -> bool:
    """Whether a dial leg of `call_sid` to the recruiter's mobile went unanswered."""
    values = values_for({"call_sid": call_sid, "recruiter_id": recruiter_id})
    statement = _statements(_dialect(session)).unanswered_leg
    return (await session.execute(statement, values)).first() is not None


@dataclass(frozen=True)
class _Statements:
    log_status: Any
    unanswered_leg: Any


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


@cache
def _statements(dialect: str) -> _Statements:
    """Built once per dialect: the status callback runs for every call."""
    return _Statements(log_status=_log_status(dialect), unanswered_leg=_unanswered_leg())


def _log_status(dialect: str) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    at = value_param(Call.started_at, "at")
    line_owner = (
        select(Recruiter.id)
        .where(Recruiter.line == value_param(Recruiter.line), Recruiter.active)
        .scalar_subquery()
    )
    columns = (
        "call_sid parent_call_sid direction from_number to_number caller_name status "
        "sequence_number duration_seconds"
    ).split()
    statement = insert(core_table(Call)).values(
        {name: value_param(getattr(Call, name)) for name in columns}
        | {"started_at": at, "updated_at": at, "recruiter_id": line_owner}
    )
    new = statement.excluded
    newer = and_(
        Call.status.not_in(TERMINAL),
        or_(
            new.status.in_(TERMINAL),
            Call.sequence_number.is_(None),
            new.sequence_number > Call.sequence_number,
        ),
    )
    return statement.on_conflict_do_update(
        index_elements=[Call.call_sid],
        set_={
            "status": case((newer, new.status), else_=Call.status),
            "sequence_number": case((newer, new.sequence_number), else_=Call.sequence_number),
            "duration_seconds": func.coalesce(new.duration_seconds, Call.duration_seconds),
            # The call's own callbacks are authoritative over what a dial leg assumed of it.
            "from_number": _unless_blank(new.from_number, Call.from_number),
            "to_number": _unless_blank(new.to_number, Call.to_number),
            "parent_call_sid": func.coalesce(new.parent_call_sid, Call.parent_call_sid),
            "caller_name": func.coalesce(new.caller_name, Call.caller_name),
            "recruiter_id": func.coalesce(Call.recruiter_id, new.recruiter_id),
            "updated_at": new.updated_at,
        },
    ).returning(Call.recruiter_id, Call.from_number, Call.missed_at)


def _unless_blank(new: Any, current: Any) -> Any:
    return case((new != "", new), else_=current)


def _unanswered_leg() -> Any:
    mobile = (
        select(Recruiter.mobile)
        .where(Recruiter.id == value_param(Recruiter.id, "recruiter_id"))
        .scalar_subquery()
    )
    return (
        select(Call.id)
        .where(
            Call.parent_call_sid == value_param(Call.parent_call_sid, "call_sid"),
            Call.direction == DIAL_LEG,
            Call.status.in_(UNANSWERED),
            Call.to_number == mobile,
        )
        .limit(1)
    )
