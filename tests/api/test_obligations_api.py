"""/api/v1/obligations: filters, newest first, keyset paging, the timeline."""

from datetime import timedelta
from typing import Any

import httpx
import pytest

from app.models import CloseReason, Obligation, ObligationEvent, ObligationStatus, Voicemail
from tests.support.databases import TestDatabase
from tests.support.factories import T0, make_obligation, make_recruiter

URL = "/api/v1/obligations"


async def ids(api: httpx.AsyncClient, **params: Any) -> list[int]:
    response = await api.get(URL, params=params)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def seed(db: TestDatabase) -> dict[str, Any]:
    """Two recruiters; obligations opened an hour apart, one closed, two callers."""
    alice, bea = make_recruiter(db), make_recruiter(db)
    rows = [
        make_obligation(alice, opened_at=T0, caller="+447700900001"),
        make_obligation(alice, opened_at=T0 + timedelta(hours=1), caller="+447700900002"),
        make_obligation(
            bea,
            opened_at=T0 + timedelta(hours=2),
            caller="+447700900001",
            status=ObligationStatus.CLOSED,
            closed_at=T0 + timedelta(hours=3),
            close_reason=CloseReason.CALLBACK,
        ),
        make_obligation(bea, opened_at=T0 + timedelta(hours=3), caller=None),
    ]
    db.add(*rows)
    return {"alice": alice, "bea": bea, "ids": [row.id for row in rows]}


async def test_newest_opened_come_first(api: httpx.AsyncClient, db: TestDatabase) -> None:
    first, second, third, fourth = seed(db)["ids"]
    assert await ids(api) == [fourth, third, second, first]


async def test_filter_by_status(api: httpx.AsyncClient, db: TestDatabase) -> None:
    first, second, third, fourth = seed(db)["ids"]
    assert await ids(api, status="open") == [fourth, second, first]
    assert await ids(api, status="closed") == [third]
    assert (await api.get(URL, params={"status": "ajar"})).status_code == 422


async def test_filter_by_recruiter(api: httpx.AsyncClient, db: TestDatabase) -> None:
    seeded = seed(db)
    first, second, third, fourth = seeded["ids"]
    assert await ids(api, recruiter_id=seeded["alice"].id) == [second, first]
    assert await ids(api, recruiter_id=seeded["bea"].id) == [fourth, third]
    assert await ids(api, recruiter_id=999) == []


@pytest.mark.parametrize("written", ["+447700900001", "07700 900001", "+44 (0)7700-900001"])
async def test_filter_by_caller_in_any_format(
    api: httpx.AsyncClient, db: TestDatabase, written: str
) -> None:
    first, _, third, _ = seed(db)["ids"]
    assert await ids(api, caller=written) == [third, first]


async def test_an_unreadable_caller_is_a_422_naming_it(
    api: httpx.AsyncClient, db: TestDatabase
) -> None:
    response = await api.get(URL, params={"caller": "not-a-number"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "caller"]


async def test_opened_bounds_are_exclusive(api: httpx.AsyncClient, db: TestDatabase) -> None:
    first, second, third, fourth = seed(db)["ids"]
    after, before = T0.isoformat(), (T0 + timedelta(hours=3)).isoformat()
    assert await ids(api, opened_after=after) == [fourth, third, second]
    assert await ids(api, opened_before=before) == [third, second, first]
    assert await ids(api, opened_after=after, opened_before=before) == [third, second]
    # The same instant written with another offset.
    assert await ids(api, opened_after="2026-01-05T11:00:00+01:00") == [fourth, third, second]
    # Left empty: no bound.
    assert await ids(api, opened_after="", opened_before="") == [fourth, third, second, first]


async def test_times_without_an_offset_are_refused(api: httpx.AsyncClient) -> None:
    response = await api.get(URL, params={"opened_after": "2026-01-05T10:00:00"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "opened_after"]


async def test_filters_combine(api: httpx.AsyncClient, db: TestDatabase) -> None:
    seeded = seed(db)
    _, _, third, fourth = seeded["ids"]
    assert await ids(api, recruiter_id=seeded["bea"].id, status="open") == [fourth]
    assert await ids(api, caller="+447700900001", status="closed") == [third]


@pytest.mark.parametrize("limit", [0, 201, -1])
async def test_limit_is_1_to_200(api: httpx.AsyncClient, limit: int) -> None:
    response = await api.get(URL, params={"limit": limit})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "limit"]


async def test_limit_defaults_to_50(api: httpx.AsyncClient, db: TestDatabase) -> None:
    recruiter = make_recruiter(db)
    db.add(*[make_obligation(recruiter, caller=f"+4477009{n:05d}") for n in range(51)])
    body = (await api.get(URL)).json()
    assert len(body["items"]) == 50 and body["next_cursor"]


async def page_through(api: httpx.AsyncClient, **params: Any) -> list[list[int]]:
    pages, cursor = [], None
    while True:
        query = params | ({"cursor": cursor} if cursor else {})
        body = (await api.get(URL, params=query)).json()
        pages.append([item["id"] for item in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


async def test_paging_250_items_by_100_shows_each_once_while_new_ones_arrive(
    api: httpx.AsyncClient, db: TestDatabase
) -> None:
    recruiter = make_recruiter(db)
    # Ten share each opening time, so the id breaks ties across page boundaries.
    rows = [
        make_obligation(
            recruiter,
            caller=f"+4477009{n:05d}",
            opened_at=T0 + timedelta(minutes=n // 10),
        )
        for n in range(250)
    ]
    db.add(*rows)
    expected = [r.id for r in sorted(rows, key=lambda r: (r.opened_at, r.id), reverse=True)]

    seen: list[int] = []
    body = (await api.get(URL, params={"limit": 100})).json()
    seen += [item["id"] for item in body["items"]]
    for n in range(2):
        # New obligations open between page requests; they sort before the cursor.
        db.add(
            make_obligation(recruiter, caller=f"+4477001{n:05d}", opened_at=T0 + timedelta(days=1))
        )
        body = (await api.get(URL, params={"limit": 100, "cursor": body["next_cursor"]})).json()
        seen += [item["id"] for item in body["items"]]
    assert body["next_cursor"] is None
    assert [len(seen[:100]), len(seen[100:200]), len(seen[200:])] == [100, 100, 50]
    assert seen == expected


async def test_paging_keeps_the_filters(api: httpx.AsyncClient, db: TestDatabase) -> None:
    recruiter = make_recruiter(db)
    rows = [
        make_obligation(
            recruiter,
            caller=f"+4477009{n:05d}",
            opened_at=T0 + timedelta(minutes=n),
            status=ObligationStatus.OPEN if n % 2 else ObligationStatus.CLOSED,
        )
        for n in range(9)
    ]
    db.add(*rows)
    pages = await page_through(api, status="open", limit=2)
    assert [len(page) for page in pages] == [2, 2]
    assert sum(pages, []) == [8, 6, 4, 2]


@pytest.mark.parametrize(
    "cursor", ["abc", "!!", "W10", "WyJjYWxscyIsIjIwMjYtMDEtMDVUMTA6MDA6MDArMDA6MDAiLDFd"]
)
async def test_a_cursor_that_was_not_given_out_is_a_422(
    api: httpx.AsyncClient, cursor: str
) -> None:
    # The last one is a well-formed cursor of the call log, not of this listing.
    response = await api.get(URL, params={"cursor": cursor})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "cursor"]


async def test_a_tampered_cursor_is_a_422(api: httpx.AsyncClient, db: TestDatabase) -> None:
    recruiter = make_recruiter(db)
    db.add(*[make_obligation(recruiter, caller=f"+4477009{n:05d}") for n in range(3)])
    cursor = (await api.get(URL, params={"limit": 1})).json()["next_cursor"]
    for tampered in (cursor[:-3], cursor[1:], "x" + cursor[1:]):
        assert (await api.get(URL, params={"cursor": tampered})).status_code == 422


async def test_an_obligation_shows_every_contract_field(
    api: httpx.AsyncClient, db: TestDatabase
) -> None:
    recruiter = make_recruiter(db)
    db.add(
        make_obligation(recruiter, sms_error_code=21610, next_reminder_at=T0 + timedelta(minutes=2))
    )
    db.add(
        Voicemail(
            recording_sid="RE1",
            call_sid="CA1",
            obligation_id=1,
            recording_url="https://api.twilio.com/rec/RE1",
            duration_seconds=14,
            transcript="please call back",
            created_at=T0,
            updated_at=T0,
        )
    )
    item = (await api.get(URL)).json()["items"][0]
    assert item == {
        "id": 1,
        "recruiter_id": recruiter.id,
        "caller": "+447700900123",
        "caller_name": None,
        "status": "open",
        "opened_at": "2026-01-05T10:00:00Z",
        "last_missed_at": "2026-01-05T10:00:00Z",
        "missed_calls": 1,
        "voicemails": [
            {
                "recording_url": "https://api.twilio.com/rec/RE1",
                "duration_seconds": 14,
                "transcript": "please call back",
                "created_at": "2026-01-05T10:00:00Z",
            }
        ],
        "reminders_sent": 0,
        "next_reminder_at": "2026-01-05T10:02:00Z",
        "snoozed_until": None,
        "escalated_at": None,
        "callback_attempts": 0,
        "sms_error_code": 21610,
        "closed_at": None,
        "close_reason": None,
        "promised_by": None,
        "overdue": False,
        "caller_text": None,
    }


async def test_detail_has_the_timeline_oldest_first(
    api: httpx.AsyncClient, db: TestDatabase
) -> None:
    db.add(make_obligation(make_recruiter(db)))
    db.add(
        ObligationEvent(
            obligation_id=1,
            at=T0 + timedelta(minutes=2),
            kind="nudge_sent",
            actor="worker",
            detail=None,
        ),
        ObligationEvent(
            obligation_id=1, at=T0, kind="opened", actor="twilio", detail={"call_sid": "CA1"}
        ),
    )
    body = (await api.get(f"{URL}/1")).json()
    assert body["events"] == [
        {
            "at": "2026-01-05T10:00:00Z",
            "kind": "opened",
            "actor": "twilio",
            "detail": {"call_sid": "CA1"},
        },
        {"at": "2026-01-05T10:02:00Z", "kind": "nudge_sent", "actor": "worker", "detail": None},
    ]
    assert body["voicemails"] == [] and body["id"] == 1


async def test_an_unknown_obligation_is_a_404(api: httpx.AsyncClient, db: TestDatabase) -> None:
    response = await api.get(f"{URL}/42")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": "obligation 42 does not exist"}
    assert db.count(Obligation) == 0
