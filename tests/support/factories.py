"""Plain factory functions for rows the tests need."""

from datetime import UTC, datetime
from itertools import count
from typing import Any

from sqlalchemy import insert

from app.models import Call, Obligation, ObligationStatus, Recruiter
from tests.support.databases import TestDatabase

T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
_numbers = count(100)


def make_recruiter(db: TestDatabase, **fields: Any) -> Recruiter:
    """An active recruiter with a line and a mobile, stored and returned."""
    n = next(_numbers)
    values: dict[str, Any] = {
        "name": f"Recruiter {n}",
        "mobile": f"+1415555{n:04d}",
        "line": f"+1500555{n:04d}",
        "timezone": "UTC",
        "working_hours": None,
        "active": True,
        "created_at": T0,
        "updated_at": T0,
    }
    recruiter = Recruiter(**(values | fields))
    db.add(recruiter)
    return recruiter


def make_obligation(recruiter: Recruiter, **fields: Any) -> Obligation:
    """An open obligation for `recruiter` (not stored: pass it to db.add)."""
    opened = fields.pop("opened_at", T0)
    values: dict[str, Any] = {
        "recruiter_id": recruiter.id,
        "caller": "+447700900123",
        "status": ObligationStatus.OPEN,
        "opened_at": opened,
        "last_missed_at": opened,
        "missed_calls": 1,
        "reminders_sent": 0,
        "updated_at": opened,
    }
    return Obligation(**(values | fields))


def make_call(recruiter: Recruiter | None, sid: str, **fields: Any) -> Call:
    """A call-log row (not stored: pass it to db.add)."""
    started = fields.pop("started_at", T0)
    values: dict[str, Any] = {
        "call_sid": sid,
        "direction": "inbound",
        "from_number": "+447700900123",
        "to_number": recruiter.line if recruiter else "+15005550006",
        "status": "no-answer",
        "started_at": started,
        "updated_at": started,
        "recruiter_id": recruiter.id if recruiter else None,
    }
    return Call(**(values | fields))


def seed_due_obligations(db: TestDatabase, *, recruiters: int, callers: int, due: datetime) -> None:
    """`recruiters` recruiters with `callers` open obligations each, every first nudge due at
    `due`, inserted in bulk (the workers' load tests)."""
    people = [
        {
            "name": f"R{n}",
            "mobile": f"+1415{n:07d}",
            "line": f"+1500{n:07d}",
            "timezone": "UTC",
            "active": True,
            "created_at": T0,
            "updated_at": T0,
        }
        for n in range(recruiters)
    ]
    opened = {"status": ObligationStatus.OPEN, "opened_at": T0, "last_missed_at": T0}
    counts = {"missed_calls": 1, "reminders_sent": 0, "callback_attempts": 0}
    with db.engine.begin() as connection:
        ids = connection.scalars(
            insert(Recruiter).returning(Recruiter.id, sort_by_parameter_order=True), people
        ).all()
        rows = [
            {"recruiter_id": rid, "caller": f"+447700900{k:03d}", "next_reminder_at": due}
            | opened
            | counts
            | {"updated_at": T0}
            for rid in ids
            for k in range(callers)
        ]
        connection.execute(insert(Obligation), rows)
