"""Property: whatever order and however often Twilio delivers the reports of a miss, a
callback, a repeat call and an unanswered attempt, the obligations end as if every report
had come at once, in event-time order (both databases, signed webhooks through the app)."""

from datetime import timedelta

import httpx
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from app.clock import ManualClock
from tests.obligations import reports
from tests.obligations.delivery import deliver, state
from tests.obligations.reports import Report
from tests.support.databases import TestDatabase
from tests.support.factories import T0, make_recruiter
from tests.support.signer import TwilioSigner

SECOND = timedelta(seconds=1)
# When the caller rang again: before the attempt, between it and the callback, after both.
REPEAT_AT = [30 * SECOND, 90 * SECOND, 300 * SECOND]
delays = st.integers(0, 600).map(lambda s: s * SECOND)


def scenario(db: TestDatabase, repeat_at: timedelta, repeat: str) -> list[Report]:
    """A fresh recruiter and the reports of: a miss, an unanswered attempt, a callback that
    connected, and a repeat call (missed, told by its status or its Dial action, or taken)."""
    recruiter = make_recruiter(db)
    line, at = recruiter.line, T0 + repeat_at
    again = {
        "missed": lambda: reports.miss("CArepeat", line=line, at=at),
        "dialled": lambda: reports.dialled_miss(
            "CArepeat", line=line, recruiter_id=recruiter.id, at=at
        ),
        "answered": lambda: reports.answered(
            "CArepeat", line=line, recruiter_id=recruiter.id, connected=at
        ),
    }[repeat]()
    return [
        reports.miss("CAmiss", line=line, at=T0),
        reports.attempt("CAattempt", line=line, at=T0 + 60 * SECOND),
        reports.callback("CAcallback", line=line, connected=T0 + 120 * SECOND),
        again,
    ]


@settings(
    max_examples=30,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # each example replays ~20 webhooks
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    repeat_at=st.sampled_from(REPEAT_AT),
    repeat=st.sampled_from(["missed", "dialled", "answered"]),
    plan=st.lists(st.tuples(delays, st.lists(delays, max_size=2)), min_size=4, max_size=4),
    order=st.randoms(use_true_random=False),
)
async def test_the_final_state_does_not_depend_on_arrival_order_or_repeats(
    client: httpx.AsyncClient,
    signer: TwilioSigner,
    clock: ManualClock,
    database: TestDatabase,
    repeat_at: timedelta,
    repeat: str,
    plan: list[tuple[timedelta, list[timedelta]]],
    order: object,
) -> None:
    database.wipe()
    in_order = scenario(database, repeat_at, repeat)
    await deliver(client, signer, clock, sorted((r.sent_at, r) for r in in_order))
    expected = state(database)

    database.wipe()
    shuffled = scenario(database, repeat_at, repeat)
    arrivals = []
    for report, (delay, repeats) in zip(shuffled, plan, strict=True):
        for extra in [delay, *repeats]:
            late = extra if report.can_be_late else timedelta(0)
            arrivals.append((report.sent_at + late, report))
    order.shuffle(arrivals)  # type: ignore[attr-defined]
    arrivals.sort(key=lambda arrival: arrival[0])  # stable: ties keep the shuffled order
    await deliver(client, signer, clock, arrivals)

    assert state(database) == expected, [r.name for _, r in arrivals]
