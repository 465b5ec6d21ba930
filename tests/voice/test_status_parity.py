"""Observe mode's status callback in one statement (`voice.status_pg`, PostgreSQL through the
driver) and the general path (`forwarding.on_status`'s log and look-ups through the session,
and the miss by `obligations.returns.record_miss`, not by `miss_pg`'s statement, which shares
its obligation side with the one under test) leave the same rows and report the same outcomes.

Both are fed the same hypothesis-generated sequences: status callbacks of inbound calls in
any order and with any sequence numbers (repeats, terminal then ringing, lines nobody has,
withheld callers), unanswered or answered legs to the recruiter's mobile, voicemails the
fallback kept before the call was known, the recruiter reaching the caller, and closes.
"""

import asyncio
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from unittest.mock import patch

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, text

from app.obligations import miss_pg
from app.obligations.service import CallFacts
from app.voice import status_pg
from app.voice.call_log import DIAL_LEG, INBOUND, StatusReport
from app.voice.forwarding import on_status
from tests.support.databases import TestDatabase
from tests.support.parity import CALLERS, POLICY, RECRUITERS, T0, Side, line_of, mobile_of, prepare

LINES = [*RECRUITERS, 3]  # 3: a line no recruiter has


@dataclass(frozen=True)
class Status:
    """A status callback of the call or (`leg`) of its dial leg to the recruiter's mobile."""

    call: int
    status: str
    sequence: int | None
    duration: int | None
    minute: int
    leg: bool = False


def leg(call: int, status: str, minute: int) -> Status:
    return Status(call, status, None, None, minute, leg=True)


@dataclass(frozen=True)
class Kept:
    """A voicemail of the call that the fallback kept before the call was known."""

    call: int


@dataclass(frozen=True)
class Reached:
    """The recruiter's callback to the call's caller connected."""

    call: int
    minute: int


@dataclass(frozen=True)
class Close:
    call: int
    minute: int


minutes = st.integers(0, 120)
statuses = st.builds(
    Status,
    st.integers(0, 3),
    st.sampled_from(["ringing", "in-progress", "completed", "no-answer", "busy"]),
    st.one_of(st.none(), st.integers(0, 4)),
    st.sampled_from([None, 0, 30]),
    minutes,
)
steps = st.lists(
    st.one_of(
        statuses,
        statuses,
        statuses,
        st.builds(leg, st.integers(0, 3), st.sampled_from(["no-answer", "completed"]), minutes),
        st.builds(Kept, st.integers(0, 3)),
        st.builds(Reached, st.integers(0, 3), minutes),
        st.builds(Close, st.integers(0, 3), minutes),
    ),
    min_size=2,
    max_size=12,
)
# Each CallSid's line and caller.
calls = st.lists(
    st.tuples(st.sampled_from(LINES), st.integers(0, len(CALLERS) - 1)), min_size=4, max_size=4
)


class StatusSide(Side):
    """One schema; `direct`: status callbacks take the one statement where it applies; else
    the miss is counted by `record_miss` (as on SQLite)."""

    async def status(self, report: StatusReport) -> Any:
        with ExitStack() as stack:
            if not self.direct:
                stack.enter_context(patch.object(miss_pg, "count_miss_in", _not_in_one))
            async with self.sessions() as session:
                outcome = await on_status(session, report=report, region="US", policy=POLICY)
                await session.commit()
        return str(outcome)


async def _not_in_one(*_: Any, **__: Any) -> None:
    return None  # what `count_miss_in` answers when `returns` must decide


def sid(n: int) -> str:
    return f"CA{n:032d}"


def report(step: Status, call: tuple[int, int]) -> StatusReport:
    line, caller = call
    at = T0 + timedelta(minutes=step.minute)
    if step.leg:
        leg = CallFacts(
            f"CL{step.call:032d}", DIAL_LEG, line_of(line), mobile_of(line), step.status, at,
            parent_call_sid=sid(step.call),
        )  # fmt: skip
        return StatusReport(leg, sequence_number=None, duration_seconds=None)
    number = CALLERS[caller] or "anonymous"
    inbound = CallFacts(sid(step.call), INBOUND, number, line_of(line), step.status, at)
    return StatusReport(inbound, step.sequence, step.duration)


async def play(step: Any, call: tuple[int, int], sides: tuple[StatusSide, StatusSide]) -> None:
    line, caller = call
    if isinstance(step, Status):
        seen = [await side.status(report(step, call)) for side in sides]
        assert seen[0] == seen[1], step
        return
    for side in sides:
        if isinstance(step, Kept):
            await side.execute(_KEEP, {"rs": f"RE{step.call:032d}", "cs": sid(step.call)})
        elif CALLERS[caller] is None or line not in RECRUITERS:
            continue
        elif isinstance(step, Reached):
            at = T0 + timedelta(minutes=step.minute)
            values = {"cs": f"CB{step.minute:032d}", "r": line, "party": CALLERS[caller]}
            await side.execute(_REACHED, values | {"at": at, "mobile": mobile_of(line)})
        else:
            await side.close(line, str(CALLERS[caller]), T0 + timedelta(minutes=step.minute))


_KEEP = """INSERT INTO voicemails (recording_sid, call_sid, recording_status, duration_seconds,
    created_at, updated_at) VALUES (:rs, :cs, 'completed', 12, now(), now())
    ON CONFLICT (recording_sid) DO NOTHING"""
_REACHED = """INSERT INTO calls (call_sid, direction, from_number, to_number, status, started_at,
    updated_at, recruiter_id, party, party_at) VALUES (:cs, 'outbound-api', :mobile, :party,
    'completed', :at, :at, :r, :party, :at) ON CONFLICT (call_sid) DO NOTHING"""


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(calls, steps)
@example(  # a terminal status is never replaced; a repeat of the miss counts once
    [(1, 0), (1, 0), (2, 1), (3, 0)],
    [Status(0, "no-answer", 3, 0, 5), Status(0, "ringing", 4, None, 6), Status(0, "busy", 5, 0, 7)],
)
@example(  # only a later sequence number replaces a status; none replaces what had none
    [(1, 0), (2, 1), (2, 1), (3, 0)],
    [
        Status(0, "ringing", 2, None, 1),
        Status(0, "in-progress", 2, None, 2),
        Status(1, "ringing", None, None, 1),
        Status(1, "in-progress", None, None, 2),
        Status(0, "in-progress", 1, None, 3),
    ],
)
@example(  # a completed call counts when its leg to the mobile went unanswered
    [(1, 0), (1, 1), (2, 1), (3, 0)],
    [leg(1, "no-answer", 1), Status(1, "completed", 2, 40, 3), Status(1, "completed", 3, 40, 3)],
)
@example(  # a kept voicemail is the call's miss; a late one joins the closed obligation
    [(1, 0), (1, 0), (2, 1), (3, 0)],
    [
        Kept(0),
        Status(0, "completed", 1, 20, 10),
        Close(0, 30),
        Reached(0, 40),
        Status(1, "no-answer", None, None, 20),
        Status(2, "no-answer", None, None, 50),
    ],
)
@example(  # the recruiter reached the caller after the miss they report late: not a miss
    [(1, 0), (1, 0), (2, 1), (3, 0)],
    [Reached(0, 10), Status(0, "no-answer", None, None, 5)],
)
async def test_the_one_statement_status_leaves_the_rows_the_general_path_leaves(
    pg_pair: tuple[TestDatabase, TestDatabase],
    call_facts: list[tuple[int, int]],
    sequence: list[Status | Kept | Reached | Close],
) -> None:
    for database in pg_pair:
        prepare(database)
    sides = StatusSide(pg_pair[0], direct=True), StatusSide(pg_pair[1], direct=False)
    try:
        for step in sequence:
            await play(step, call_facts[step.call], sides)
        assert await sides[0].rows() == await sides[1].rows()
    finally:
        for side in sides:
            await side.dispose()


async def test_a_twin_that_inserted_the_call_first_has_the_statement_run_again(
    pg_pair: tuple[TestDatabase, TestDatabase],
) -> None:
    prepare(pg_pair[0])
    side = StatusSide(pg_pair[0], direct=True)
    twin = pg_pair[0].engine.connect()
    try:
        twin.execute(text(_TWIN), {"sid": sid(0), "caller": CALLERS[0], "line": line_of(1)})
        # The statement's insert of the same CallSid waits for the twin's transaction...
        counting = asyncio.create_task(side.status(report(Status(0, "no-answer", 1, 0, 5), (1, 0))))
        await _blocked_by(twin)
        assert not counting.done()
        twin.commit()
        # ...loses on the unique key when it commits, runs again and counts the logged call.
        assert await counting == "missed"
        rows = await side.rows()
    finally:
        twin.close()
        await side.dispose()
    assert [call["missed_at"] is not None for call in rows["calls"]] == [True]
    assert [o["missed_calls"] for o in rows["obligations"]] == [1]


async def test_a_plain_unanswered_call_is_counted_by_the_one_statement(
    pg_pair: tuple[TestDatabase, TestDatabase],
) -> None:
    prepare(pg_pair[0])
    side = StatusSide(pg_pair[0], direct=True)
    try:
        async with side.sessions() as session:
            unanswered = report(Status(0, "no-answer", 1, 0, 5), (1, 0))
            counted = await status_pg.log_inbound(
                session, report=unanswered, region="US", policy=POLICY
            )
            assert not session.in_transaction()  # nothing went through the session
        rows = await side.rows()
    finally:
        await side.dispose()
    assert counted is True
    assert [o["missed_calls"] for o in rows["obligations"]] == [1]


async def _blocked_by(twin: Connection) -> None:
    """Until some backend waits for a lock the twin's transaction holds."""
    pid = twin.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with twin.engine.connect() as watcher:
        for _ in range(200):
            waiting = watcher.execute(_WAITING, {"pid": pid}).scalar_one()
            watcher.rollback()  # pg_stat_activity is read once a transaction
            if waiting:
                return
            await asyncio.sleep(0.025)
    raise AssertionError("the statement never waited for the twin's insert")


_WAITING = text("SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))")
_TWIN = """INSERT INTO calls (call_sid, direction, from_number, to_number, status, started_at,
    updated_at) VALUES (:sid, 'inbound', :caller, :line, 'ringing', now(), now())"""
