"""The statements that count a missed call, built once per SQL dialect.

Building these upserts costs more Python time than running them (SQLAlchemy constructs,
`excluded` aliases, cache keys), and the Dial action runs them on every missed call: so
they are built once, with bound parameters named `v_*`, and executed with values.
"""

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import case, func, literal, literal_column, select, update
from sqlalchemy import insert as insert_into
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import core_table, value_param, value_params
from app.models import Call, CallerText, Obligation, ObligationEvent, ObligationStatus


@dataclass(frozen=True)
class MissStatements:
    claim_call: Any  # v_call_sid ... v_recruiter_id, v_at → id, recruiter_id, from, missed_at...
    open_or_merge: Any  # v_recruiter_id, v_caller, v_caller_name, v_at, v_first_due → id, count
    join_closed: Any  # v_recruiter_id, v_caller, v_at → id, missed_calls of the joined one
    mark_missed: Any  # v_call_id, v_at, v_obligation_id
    add_event: Any  # v_obligation_id, v_at, v_kind, v_actor, v_detail


def miss_statements(session: AsyncSession) -> MissStatements:
    """The statements for the session's database."""
    return _build(session.get_bind().dialect.name)


@cache
def _build(dialect: str) -> MissStatements:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return MissStatements(
        claim_call=_claim_call(insert),
        open_or_merge=_open_or_merge(insert),
        join_closed=_join_closed(),
        mark_missed=update(core_table(Call))
        .where(Call.id == value_param(Call.id, "call_id"))
        .values(
            missed_at=value_param(Call.missed_at, "at"),
            # Never unlink: a withheld caller's voicemail may have linked its obligation first.
            obligation_id=func.coalesce(value_param(Call.obligation_id), Call.obligation_id),
            updated_at=value_param(Call.updated_at, "at"),
        ),
        add_event=insert_into(core_table(ObligationEvent)).values(
            value_params(ObligationEvent, "obligation_id at kind actor detail")
        ),
    )


def _claim_call(insert: Any) -> Any:
    at = value_param(Call.started_at, "at")
    named = (
        "call_sid parent_call_sid direction from_number to_number caller_name status recruiter_id"
    )
    statement = insert(core_table(Call)).values(
        value_params(Call, named) | {"started_at": at, "updated_at": at}
    )
    # A no-op update still takes the row lock on PostgreSQL (SQLite holds the write lock).
    return statement.on_conflict_do_update(
        index_elements=[Call.call_sid],
        set_={
            "recruiter_id": case(
                (Call.recruiter_id.is_(None), statement.excluded.recruiter_id),
                else_=Call.recruiter_id,
            )
        },
    ).returning(Call.id, Call.recruiter_id, Call.from_number, Call.missed_at, Call.obligation_id)


def _closed_later() -> Any:
    """The closed obligations of (recruiter, caller) that closed after this miss."""
    return select(Obligation.id).where(
        Obligation.recruiter_id == value_param(Obligation.recruiter_id),
        Obligation.caller == value_param(Obligation.caller),
        Obligation.status == ObligationStatus.CLOSED,
        Obligation.closed_at >= value_param(Obligation.closed_at, "at"),
    )


def _open_or_merge(insert: Any) -> Any:
    """Upsert the open obligation of (recruiter, caller), unless a later close claims the miss."""
    at = value_param(Obligation.opened_at, "at")
    columns = {
        "recruiter_id": value_param(Obligation.recruiter_id),
        "caller": value_param(Obligation.caller),
        "caller_name": value_param(Obligation.caller_name),
        "status": literal(ObligationStatus.OPEN.value, Obligation.status.type),
        "opened_at": at,
        "last_missed_at": at,
        "missed_calls": literal(1, Obligation.missed_calls.type),
        "reminders_sent": literal(0, Obligation.reminders_sent.type),
        "next_reminder_at": value_param(Obligation.next_reminder_at, "first_due"),
        "callback_attempts": literal(0, Obligation.callback_attempts.type),
        "updated_at": at,
        # Only a new obligation waits for its promise and text-back (app/courtesy).
        "caller_text": literal(CallerText.PENDING.value, Obligation.caller_text.type),
    }
    source = select(*[value.label(name) for name, value in columns.items()]).where(
        ~_closed_later().exists()
    )
    statement = insert(core_table(Obligation)).from_select(list(columns), source)
    return statement.on_conflict_do_update(
        index_elements=[Obligation.recruiter_id, Obligation.caller],
        # Inlined, not bound: PostgreSQL's generic plan of a prepared statement (psycopg
        # prepares on the fifth use) cannot match a parameter to the partial index.
        index_where=Obligation.status == literal_column(f"'{ObligationStatus.OPEN.value}'"),
        set_=_merged(statement.excluded),
    ).returning(Obligation.id, Obligation.missed_calls)


def _merged(new: Any) -> dict[str, Any]:
    """What a repeat miss changes on the open obligation; `new`, the row it would have opened."""
    return {
        "missed_calls": Obligation.missed_calls + 1,
        # Callbacks arrive out of order: keep the latest call, the earliest opening.
        "last_missed_at": _later(new.last_missed_at, Obligation.last_missed_at),
        "opened_at": case(
            (new.opened_at < Obligation.opened_at, new.opened_at), else_=Obligation.opened_at
        ),
        "next_reminder_at": _pulled_forward(new.next_reminder_at),
        "caller_name": case(
            (new.caller_name.is_not(None), new.caller_name), else_=Obligation.caller_name
        ),
        "updated_at": new.updated_at,
    }


def _join_closed() -> Any:
    """Count a late miss on the earliest obligation that closed after it."""
    at = value_param(Obligation.last_missed_at, "at")
    earliest = _closed_later().order_by(Obligation.closed_at).limit(1).scalar_subquery()
    return (
        update(core_table(Obligation))
        .where(Obligation.id == earliest)
        .values(
            missed_calls=Obligation.missed_calls + 1,
            last_missed_at=_later(at, Obligation.last_missed_at),
            updated_at=at,
        )
        .returning(Obligation.id, Obligation.missed_calls)
    )


def _later(candidate: Any, current: Any) -> Any:
    return case((candidate > current, candidate), else_=current)


def _pulled_forward(candidate: Any) -> Any:
    """A repeat call brings the next nudge forward to at most one first gap after it (the
    candidate), never earlier than a snooze allows; at the cap (NULL) it stays there."""
    current, snoozed = Obligation.next_reminder_at, Obligation.snoozed_until
    return case(
        (current.is_(None), None),
        (candidate >= current, current),
        (snoozed.is_(None), candidate),
        (candidate >= snoozed, candidate),
        (snoozed < current, snoozed),
        else_=current,
    )
