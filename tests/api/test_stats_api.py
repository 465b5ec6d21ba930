"""/api/v1/stats on a hand-computed fixture: the same figures on SQLite and PostgreSQL."""

from datetime import datetime, timedelta
from itertools import count
from typing import Any

import httpx

from app.models import CloseReason, Obligation, ObligationStatus, Recruiter
from tests.support.databases import TestDatabase
from tests.support.factories import T0, make_call, make_obligation, make_recruiter

SINCE, UNTIL = T0, T0 + timedelta(days=1)
H, M, S = timedelta(hours=1), timedelta(minutes=1), timedelta(seconds=1)
_callers = count(1)


def opened(recruiter: Recruiter, at: datetime) -> Obligation:
    return make_obligation(recruiter, opened_at=at, caller=f"+4477009{next(_callers):05d}")


def closed(recruiter: Recruiter, at: datetime, reason: CloseReason, seconds: int) -> Obligation:
    return make_obligation(
        recruiter,
        opened_at=at - timedelta(seconds=seconds),
        caller=f"+4477009{next(_callers):05d}",
        status=ObligationStatus.CLOSED,
        closed_at=at,
        close_reason=reason,
        seconds_to_close=seconds,
    )


def seed(db: TestDatabase) -> tuple[Recruiter, Recruiter, Recruiter, Recruiter]:
    a, b, idle = make_recruiter(db, name="A"), make_recruiter(db, name="B"), make_recruiter(db)
    make_recruiter(db, active=False)  # deactivated with nothing to count: not listed
    gone_busy = make_recruiter(db, name="E", active=False)
    db.add(
        # Open at UNTIL, by age then: A has one in each bucket (two on a boundary).
        opened(a, UNTIL - 30 * M),  # lt_1h
        opened(a, UNTIL - H),  # exactly 1 h: 1h_4h
        closed(a, UNTIL + H, CloseReason.CALLBACK, 6 * 3600),  # open at UNTIL: 4h_24h
        opened(a, UNTIL - 24 * H),  # exactly 24 h: gt_24h
        opened(a, UNTIL),  # opened at UNTIL: not yet open then
        opened(b, UNTIL - 72 * H),  # gt_24h
        opened(gone_busy, UNTIL - 2 * H),  # 1h_4h, listed although deactivated
        # Returned in the window: A 60, 120, 600, 3600 s; B 7200 s.
        closed(a, T0 + H, CloseReason.CALLBACK, 60),
        closed(a, T0 + 2 * H, CloseReason.ANSWERED, 120),
        closed(a, T0 + 3 * H, CloseReason.CALLBACK, 600),
        closed(a, SINCE, CloseReason.ANSWERED, 3600),  # the window includes `since`
        closed(b, UNTIL - S, CloseReason.CALLBACK, 7200),
        # Not returned: another reason, or outside the window.
        closed(a, T0 + H, CloseReason.RECRUITER, 30),
        closed(a, T0 + H, CloseReason.OPS, 40),
        closed(a, SINCE - S, CloseReason.CALLBACK, 50),
        # Closed at UNTIL: that belongs to the next window, so here it is still open (lt_1h).
        closed(a, UNTIL, CloseReason.CALLBACK, 70),
    )
    missed = [(a, SINCE), (a, T0 + H), (a, UNTIL - S), (b, T0 + 5 * H), (None, T0 + 6 * H)]
    outside = [(a, SINCE - S), (a, UNTIL)]
    db.add(
        *[
            make_call(who, f"CA{n}", missed_at=at, started_at=at)
            for n, (who, at) in enumerate(missed + outside)
        ],
        make_call(a, "CAtaken", started_at=T0 + H, status="completed"),
    )
    return a, b, idle, gone_busy


def figures(
    by_age: tuple[int, int, int, int],
    missed: int,
    returned: int,
    median: float | None,
    p90: float | None,
) -> dict[str, Any]:
    buckets = dict(zip(("lt_1h", "1h_4h", "4h_24h", "gt_24h"), by_age, strict=True))
    return {
        "open": {"total": sum(by_age), "by_age": buckets},
        "missed": missed,
        "returned": returned,
        "time_to_return": {"median_seconds": median, "p90_seconds": p90},
        # No promises in this fixture (tests/courtesy counts kept and broken ones).
        "kept": 0,
        "broken": 0,
        "kept_ratio": None,
    }


async def test_stats_match_the_hand_computed_figures(
    api: httpx.AsyncClient, db: TestDatabase
) -> None:
    a, b, idle, gone_busy = seed(db)
    response = await api.get(
        "/api/v1/stats", params={"since": SINCE.isoformat(), "until": UNTIL.isoformat()}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "since": "2026-01-05T10:00:00Z",
        "until": "2026-01-06T10:00:00Z",
        # Median of 60, 120, 600, 3600, 7200 is 600; p90 sits at rank 3.6: 3600 + 0.6 × 3600.
        **figures((2, 2, 1, 2), missed=5, returned=5, median=600.0, p90=5760.0),
        "by_recruiter": [
            # Rank 1.5 of 60, 120, 600, 3600: 360; rank 2.7: 600 + 0.7 × 3000 = 2700.
            {"recruiter_id": a.id, "name": "A", **figures((2, 1, 1, 1), 3, 4, 360.0, 2700.0)},
            {"recruiter_id": b.id, "name": "B", **figures((0, 0, 0, 1), 1, 1, 7200.0, 7200.0)},
            {"recruiter_id": idle.id, "name": idle.name, **figures((0, 0, 0, 0), 0, 0, None, None)},
            {"recruiter_id": gone_busy.id, "name": "E", **figures((0, 1, 0, 0), 0, 0, None, None)},
        ],
    }


async def test_the_window_defaults_to_the_last_seven_days(
    api: httpx.AsyncClient, db: TestDatabase
) -> None:
    for query in ("", "?since=&until="):  # left out or left empty: the same
        body = (await api.get(f"/api/v1/stats{query}")).json()
        assert (body["since"], body["until"]) == ("2025-12-29T10:00:00Z", "2026-01-05T10:00:00Z")


async def test_since_must_come_before_until(api: httpx.AsyncClient) -> None:
    response = await api.get(
        "/api/v1/stats", params={"since": UNTIL.isoformat(), "until": SINCE.isoformat()}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "since"]


async def test_an_empty_window_has_no_time_to_return(
    api: httpx.AsyncClient, db: TestDatabase
) -> None:
    body = (await api.get("/api/v1/stats")).json()
    assert body["time_to_return"] == {"median_seconds": None, "p90_seconds": None}
    assert body["by_recruiter"] == []
