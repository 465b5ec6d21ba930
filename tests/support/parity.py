"""Two PostgreSQL schemas fed the same steps by two paths: the rows both leave, compared."""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app import db_driver
from app.db import create_async_db_engine, session_factory
from app.models import CloseReason
from app.obligations.service import close, open_for
from app.reminders.policy import NudgePolicy
from tests.support.databases import TestDatabase
from tests.support.factories import T0

POLICY = NudgePolicy((timedelta(minutes=2), timedelta(hours=1)), 10, 3)
RECRUITERS = [1, 2]
CALLERS = ["+447700900001", "+447700900002", None]  # None: withheld


def line_of(recruiter: int) -> str:
    return f"+1500555000{recruiter}"


def mobile_of(recruiter: int) -> str:
    return f"+1415555000{recruiter}"


class Side:
    """One schema; `direct`: its engine has the driver attached, as the service's has."""

    def __init__(self, database: TestDatabase, *, direct: bool) -> None:
        self.database = database
        self.direct = direct
        self.engine: AsyncEngine = create_async_db_engine(database.url)
        self.sessions = session_factory(self.engine)
        if direct:
            driver = db_driver.DirectPostgres.of_url(database.url)
            assert driver is not None
            db_driver.attach(self.engine, driver)

    async def close(self, recruiter: int, caller: str, at: datetime) -> None:
        async with self.sessions() as session:
            obligation = await open_for(session, recruiter_id=recruiter, caller=caller)
            if obligation is not None:
                await close(
                    session, obligation=obligation, reason=CloseReason.OPS, actor="ops", at=at
                )
            await session.commit()

    async def execute(self, statement: str, values: dict[str, Any]) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(text(statement), values)

    async def rows(self) -> dict[str, Any]:
        """Obligations, calls, voicemails and events, obligations named by creation order."""
        async with self.engine.connect() as connection:
            obligations = (await connection.execute(text(_OBLIGATIONS))).mappings().all()
            order = {row["id"]: n for n, row in enumerate(obligations)}
            found = (await connection.execute(text(_CALLS))).mappings().all()
            kept = (await connection.execute(text(_VOICEMAILS))).mappings().all()
            events = (await connection.execute(text(_EVENTS))).mappings().all()
        return {
            "obligations": [{k: v for k, v in row.items() if k != "id"} for row in obligations],
            "calls": [
                dict(row) | {"obligation_id": order.get(row["obligation_id"])} for row in found
            ],
            "voicemails": [
                dict(row) | {"obligation_id": order.get(row["obligation_id"])} for row in kept
            ],
            "events": sorted(
                (
                    order[row["obligation_id"]],
                    row["at"],
                    row["kind"],
                    row["actor"],
                    str(row["detail"]),
                )
                for row in events
            ),
        }

    async def dispose(self) -> None:
        driver = db_driver.driver_of(self.engine)
        if driver is not None:
            await driver.close()
        await self.engine.dispose()


_OBLIGATIONS = """SELECT id, recruiter_id, caller, caller_name, status, opened_at, last_missed_at,
    missed_calls, reminders_sent, next_reminder_at, snoozed_until, closed_at, close_reason,
    seconds_to_close, callback_attempts, caller_text, updated_at FROM obligations ORDER BY id"""
_CALLS = """SELECT call_sid, parent_call_sid, direction, recruiter_id, from_number, to_number,
    caller_name, status, sequence_number, duration_seconds, started_at, updated_at, missed_at,
    obligation_id FROM calls ORDER BY call_sid"""
_VOICEMAILS = "SELECT recording_sid, obligation_id FROM voicemails ORDER BY recording_sid"
_EVENTS = "SELECT obligation_id, at, kind, actor, detail FROM obligation_events"


def prepare(database: TestDatabase) -> None:
    """An empty schema with the recruiters of `RECRUITERS`."""
    database.wipe()
    with database.engine.begin() as connection:
        for recruiter in RECRUITERS:
            connection.execute(
                text(
                    "INSERT INTO recruiters (id, name, mobile, line, timezone, active, "
                    "created_at, updated_at) VALUES (:id, 'R', :mobile, :line, 'UTC', true, "
                    ":at, :at)"
                ),
                {
                    "id": recruiter,
                    "mobile": mobile_of(recruiter),
                    "line": line_of(recruiter),
                    "at": T0,
                },
            )
