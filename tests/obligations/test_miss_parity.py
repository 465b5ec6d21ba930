"""The one-statement miss (`miss_pg.COUNT_MISS`, in autocommit through the driver or inside a
request's transaction) and the general `obligations.returns.record_miss` (the path a miss
takes when it is not the one statement) leave the same rows.

Both are fed the same hypothesis-generated sequences of missed calls (repeated deliveries,
several callers and recruiters, withheld callers, out-of-order times) mixed with closes and
snoozes, each on its own PostgreSQL schema; the obligations, calls and timelines compared.
"""

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app import db_driver
from app.db import create_async_db_engine, session_factory
from app.models import CloseReason
from app.obligations import miss_pg
from app.obligations.returns import record_miss
from app.obligations.service import CallFacts, MissResult, claim_call, close, open_for
from app.reminders.policy import NudgePolicy
from tests.support.databases import TestDatabase

T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
POLICY = NudgePolicy((timedelta(minutes=2), timedelta(hours=1)), 10, 3)
CALLERS = ["+447700900001", "+447700900002", None]  # None: withheld
RECRUITERS = [1, 2]


@dataclass(frozen=True)
class Miss:
    call: int  # which CallSid: a repeat delivers the same call again
    minute: int
    path: str  # how the one-statement side counts it: "autocommit" or "transaction"


@dataclass(frozen=True)
class Close:
    recruiter: int
    caller: int
    minute: int


@dataclass(frozen=True)
class Snooze:
    recruiter: int
    caller: int
    minute: int


minutes = st.integers(0, 240)
misses = st.builds(Miss, st.integers(0, 4), minutes, st.sampled_from(["autocommit", "transaction"]))
steps = st.lists(
    st.one_of(
        misses,
        misses,
        misses,
        st.builds(Close, st.sampled_from(RECRUITERS), st.integers(0, 1), minutes),
        st.builds(Snooze, st.sampled_from(RECRUITERS), st.integers(0, 1), minutes),
    ),
    min_size=2,
    max_size=14,
)
# Each CallSid's facts: whose line, which caller, and the name Twilio sent (if any).
calls = st.lists(
    st.tuples(
        st.sampled_from(RECRUITERS),
        st.integers(0, len(CALLERS) - 1),
        st.sampled_from([None, "Ann", "Bob"]),
    ),
    min_size=5,
    max_size=5,
)


def facts(n: int, call: tuple[int, int, str | None], minute: int) -> CallFacts:
    recruiter, caller, name = call
    number = CALLERS[caller] or "anonymous"
    at = T0 + timedelta(minutes=minute)
    line = f"+1500555000{recruiter}"
    return CallFacts(f"CA{n:032d}", "inbound", number, line, "ringing", at, caller_name=name)


class Side:
    """One schema and the way it counts a miss."""

    def __init__(self, database: TestDatabase, *, one_statement: bool) -> None:
        self.database = database
        self.one_statement = one_statement
        self.engine: AsyncEngine = create_async_db_engine(database.url)
        self.sessions = session_factory(self.engine)
        if one_statement:
            direct = db_driver.DirectPostgres.of_url(database.url)
            assert direct is not None
            db_driver.attach(self.engine, direct)

    async def miss(self, call: CallFacts, recruiter: int, caller: str | None, path: str) -> Any:
        if self.one_statement and path == "autocommit":
            result = await miss_pg.count_miss(
                self.engine, call=call, recruiter_id=recruiter, caller=caller, policy=POLICY
            )
            return self._seen(result)
        async with self.sessions() as session:
            if self.one_statement:  # as the status callback does: the call is logged first
                await claim_call(session, call=replace(call, recruiter_id=recruiter))
                result = await miss_pg.count_miss_in(
                    session, call=call, recruiter_id=recruiter, caller=caller, policy=POLICY
                )
            else:
                result = await record_miss(
                    session, call=call, recruiter_id=recruiter, caller=caller, policy=POLICY
                )
            await session.commit()
        return self._seen(result)

    def _seen(self, result: MissResult) -> Any:
        return result.counted, result.opened, result.obligation_id is None

    async def close(self, recruiter: int, caller: str, at: datetime) -> None:
        async with self.sessions() as session:
            obligation = await open_for(session, recruiter_id=recruiter, caller=caller)
            if obligation is not None:
                await close(
                    session, obligation=obligation, reason=CloseReason.OPS, actor="ops", at=at
                )
            await session.commit()

    async def snooze(self, recruiter: int, caller: str, until: datetime) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(
                text(
                    "UPDATE obligations SET snoozed_until = :until "
                    "WHERE recruiter_id = :r AND caller = :c AND status = 'open'"
                ),
                {"until": until, "r": recruiter, "c": caller},
            )

    async def rows(self) -> dict[str, Any]:
        """Obligations, calls and events, with obligations named by their order of creation."""
        async with self.engine.connect() as connection:
            obligations = (await connection.execute(text(_OBLIGATIONS))).mappings().all()
            order = {row["id"]: n for n, row in enumerate(obligations)}
            found = (await connection.execute(text(_CALLS))).mappings().all()
            events = (await connection.execute(text(_EVENTS))).mappings().all()
        return {
            "obligations": [{k: v for k, v in row.items() if k != "id"} for row in obligations],
            "calls": [
                dict(row) | {"obligation_id": order.get(row["obligation_id"])} for row in found
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
        direct = db_driver.driver_of(self.engine)
        if direct is not None:
            await direct.close()
        await self.engine.dispose()


_OBLIGATIONS = """SELECT id, recruiter_id, caller, caller_name, status, opened_at, last_missed_at,
    missed_calls, reminders_sent, next_reminder_at, snoozed_until, closed_at, close_reason
    FROM obligations ORDER BY id"""
_CALLS = """SELECT call_sid, recruiter_id, from_number, caller_name, status, started_at,
    missed_at, obligation_id FROM calls ORDER BY call_sid"""
_EVENTS = "SELECT obligation_id, at, kind, actor, detail FROM obligation_events"


def prepare(database: TestDatabase) -> None:
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
                    "mobile": f"+1415555000{recruiter}",
                    "line": f"+1500555000{recruiter}",
                    "at": T0,
                },
            )


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(calls, steps)
@example(  # a repeat caller's new name replaces the old one; no name keeps it
    [(1, 0, "Ann"), (1, 0, "Bob"), (1, 0, None), (2, 0, None), (1, 2, None)],
    [Miss(0, 0, "autocommit"), Miss(1, 5, "transaction"), Miss(2, 9, "autocommit")],
)
@example(  # a miss older than a close counts on the closed obligation; a newer one opens anew
    [(1, 0, "Ann"), (1, 0, None), (1, 0, None), (2, 1, None), (1, 2, None)],
    [
        Miss(0, 10, "autocommit"),
        Close(1, 0, 20),
        Miss(1, 15, "transaction"),
        Miss(2, 30, "autocommit"),
    ],
)
@example(  # late misses join the closed obligation and move its opening back to the earliest
    [(1, 1, None), (1, 1, None), (1, 1, None)],
    [
        Miss(0, 16, "transaction"),
        Close(1, 1, 138),
        Miss(1, 28, "autocommit"),
        Miss(2, 0, "autocommit"),
    ],
)
@example(  # a repeat call while snoozed: the next nudge follows the snooze rule
    [(1, 0, None), (1, 0, None), (1, 0, None), (2, 1, None), (1, 2, None)],
    [
        Miss(0, 0, "autocommit"),
        Snooze(1, 0, 100),
        Miss(1, 50, "transaction"),
        Miss(1, 60, "autocommit"),
        Miss(4, 1, "transaction"),
    ],
)
async def test_the_one_statement_miss_leaves_the_rows_record_miss_leaves(
    pg_pair: tuple[TestDatabase, TestDatabase],
    call_facts: list[tuple[int, int, str | None]],
    sequence: list[Miss | Close | Snooze],
) -> None:
    for database in pg_pair:
        prepare(database)
    one, general = Side(pg_pair[0], one_statement=True), Side(pg_pair[1], one_statement=False)
    try:
        for step in sequence:
            await play(step, call_facts, one, general)
        assert await one.rows() == await general.rows()
    finally:
        await one.dispose()
        await general.dispose()


async def play(
    step: Miss | Close | Snooze, call_facts: list[tuple[int, int, str | None]], *sides: Side
) -> None:
    at = T0 + timedelta(minutes=step.minute)
    if isinstance(step, Miss):
        recruiter, caller, name = call_facts[step.call]
        call = facts(step.call, call_facts[step.call], step.minute)
        seen = [await side.miss(call, recruiter, CALLERS[caller], step.path) for side in sides]
        assert seen[0] == seen[1], step
    elif CALLERS[step.caller] is not None:
        for side in sides:
            number = str(CALLERS[step.caller])
            if isinstance(step, Close):
                await side.close(step.recruiter, number, at)
            else:
                await side.snooze(step.recruiter, number, at)
