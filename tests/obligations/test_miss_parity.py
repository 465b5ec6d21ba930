"""The one-statement miss (`miss_pg.COUNT_MISS`, in autocommit through the driver or inside a
request's transaction) and the general `obligations.returns.record_miss` (the path a miss
takes when it is not the one statement) leave the same rows.

Both are fed the same hypothesis-generated sequences of missed calls (repeated deliveries,
several callers and recruiters, withheld callers, out-of-order times) mixed with closes and
snoozes, each on its own PostgreSQL schema; the obligations, calls and timelines compared.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.obligations import miss_pg
from app.obligations.returns import record_miss
from app.obligations.service import CallFacts, MissResult, claim_call
from tests.support.databases import TestDatabase
from tests.support.parity import CALLERS, POLICY, RECRUITERS, T0, Side, line_of, prepare


@dataclass(frozen=True)
class Miss:
    call: int  # which CallSid: a repeat delivers the same call again
    minute: int
    # How the one-statement side counts it: "autocommit", "transaction", or "unowned" (the
    # call was logged first as ringing a line nobody had, then counted in autocommit)
    path: str


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
paths = st.sampled_from(["autocommit", "transaction", "unowned"])
misses = st.builds(Miss, st.integers(0, 4), minutes, paths)
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
    line = line_of(recruiter)
    return CallFacts(f"CA{n:032d}", "inbound", number, line, "ringing", at, caller_name=name)


class MissSide(Side):
    """One schema and the way it counts a miss: one statement, or `record_miss`."""

    async def miss(self, call: CallFacts, recruiter: int, caller: str | None, path: str) -> Any:
        if path == "unowned":
            async with self.sessions() as session:
                await claim_call(session, call=replace(call, recruiter_id=None))
                await session.commit()
            path = "autocommit"
        if self.direct and path == "autocommit":
            result = await miss_pg.count_miss(
                self.engine, call=call, recruiter_id=recruiter, caller=caller, policy=POLICY
            )
            return self._seen(result)
        async with self.sessions() as session:
            if self.direct:  # as the status callback does: the call is logged first
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

    def _seen(self, result: MissResult | None) -> Any:
        if result is None:
            return "late"
        return result.counted, result.opened, result.obligation_id is None

    async def snooze(self, recruiter: int, caller: str, until: datetime) -> None:
        await self.execute(
            "UPDATE obligations SET snoozed_until = :until "
            "WHERE recruiter_id = :r AND caller = :c AND status = 'open'",
            {"until": until, "r": recruiter, "c": caller},
        )


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(calls, steps)
@example(  # a call first logged with nobody's line is its recruiter's once it is missed
    [(1, 0, None), (2, 1, None), (1, 2, None), (1, 0, None), (1, 0, None)],
    [Miss(0, 5, "unowned"), Miss(1, 6, "unowned"), Miss(0, 7, "autocommit")],
)
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
    one, general = MissSide(pg_pair[0], direct=True), MissSide(pg_pair[1], direct=False)
    try:
        for step in sequence:
            await play(step, call_facts, one, general)
        assert await one.rows() == await general.rows()
    finally:
        await one.dispose()
        await general.dispose()


async def play(
    step: Miss | Close | Snooze, call_facts: list[tuple[int, int, str | None]], *sides: MissSide
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
