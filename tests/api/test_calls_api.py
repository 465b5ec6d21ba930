"""/api/v1/calls: the call log, newest first, with the obligations' paging."""

from datetime import timedelta

import httpx

from tests.support.databases import TestDatabase
from tests.support.factories import T0, make_call, make_obligation, make_recruiter

URL = "/api/v1/calls"


async def test_a_call_shows_the_contract_fields(api: httpx.AsyncClient, db: TestDatabase) -> None:
    recruiter = make_recruiter(db)
    db.add(make_call(recruiter, "CA1", duration_seconds=0, from_number="anonymous"))
    assert (await api.get(URL)).json() == {
        "items": [
            {
                "call_sid": "CA1",
                "direction": "inbound",
                "from": "anonymous",
                "to": recruiter.line,
                "status": "no-answer",
                "duration_seconds": 0,
                "started_at": "2026-01-05T10:00:00Z",
                "recruiter_id": recruiter.id,
                "obligation_id": None,
            }
        ],
        "next_cursor": None,
    }


async def test_calls_page_newest_first_and_filter_by_recruiter(
    api: httpx.AsyncClient, db: TestDatabase
) -> None:
    alice, bea = make_recruiter(db), make_recruiter(db)
    db.add(
        *[
            make_call(alice if n % 2 else bea, f"CA{n}", started_at=T0 + timedelta(minutes=n))
            for n in range(7)
        ]
    )
    sids, cursor = [], None
    while True:
        params = {"limit": 3, "recruiter_id": alice.id} | ({"cursor": cursor} if cursor else {})
        body = (await api.get(URL, params=params)).json()
        sids += [call["call_sid"] for call in body["items"]]
        if not (cursor := body["next_cursor"]):
            break
    assert sids == ["CA5", "CA3", "CA1"]


async def test_calls_filter_by_obligation(api: httpx.AsyncClient, db: TestDatabase) -> None:
    recruiter = make_recruiter(db)
    obligation = make_obligation(recruiter)
    db.add(obligation)
    db.add(make_call(recruiter, "CA1"), make_call(recruiter, "CA2", obligation_id=obligation.id))
    body = (await api.get(URL, params={"obligation_id": obligation.id})).json()
    assert [call["call_sid"] for call in body["items"]] == ["CA2"]
    assert (await api.get(URL, params={"obligation_id": 999})).json()["items"] == []


async def test_an_obligations_cursor_is_refused_by_the_call_log(
    api: httpx.AsyncClient, db: TestDatabase
) -> None:
    recruiter = make_recruiter(db)
    db.add(make_call(recruiter, "CA1"), make_call(recruiter, "CA2"))
    cursor = (await api.get(URL, params={"limit": 1})).json()["next_cursor"]
    assert (await api.get(URL, params={"cursor": cursor})).status_code == 200
    other = (await api.get("/api/v1/obligations", params={"cursor": cursor})).status_code
    assert other == 422
