"""Close, snooze and click-to-call through the API, and their answers on closed obligations."""

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest

from app.clock import ManualClock
from app.models import (
    CloseReason,
    Obligation,
    ObligationEvent,
    ObligationStatus,
    OutboxItem,
    OutboxKind,
    OutboxObligation,
    Recruiter,
)
from tests.support.databases import TestDatabase
from tests.support.factories import T0, make_obligation, make_recruiter

URL = "/api/v1/obligations/1"


def open_one(db: TestDatabase, **fields: Any) -> Obligation:
    recruiter = make_recruiter(db)
    obligation = make_obligation(recruiter, next_reminder_at=T0 + timedelta(minutes=2), **fields)
    db.add(obligation)
    return obligation


def closed_one(db: TestDatabase) -> Obligation:
    return open_one(
        db,
        status=ObligationStatus.CLOSED,
        closed_at=T0,
        close_reason=CloseReason.CALLBACK,
        seconds_to_close=0,
    )


async def test_close_closes_with_reason_ops_and_notes_who(
    api: httpx.AsyncClient, db: TestDatabase, clock: ManualClock
) -> None:
    open_one(db)
    clock.advance(timedelta(minutes=30))
    response = await api.post(f"{URL}/close", json={"note": "emailed them instead"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["close_reason"], body["closed_at"]) == (
        "closed",
        "ops",
        "2026-01-05T10:30:00Z",
    )
    assert body["next_reminder_at"] is None
    assert body["events"][-1] == {
        "at": "2026-01-05T10:30:00Z",
        "kind": "closed",
        "actor": "env-token-1",
        "detail": {"reason": "ops", "note": "emailed them instead"},
    }
    assert db.one(Obligation).seconds_to_close == 1800


async def test_close_needs_no_body(api: httpx.AsyncClient, db: TestDatabase) -> None:
    open_one(db)
    response = await api.post(f"{URL}/close")
    assert response.status_code == 200
    assert response.json()["events"][-1]["detail"] == {"reason": "ops"}


async def test_closing_a_closed_obligation_answers_200_unchanged(
    api: httpx.AsyncClient, db: TestDatabase
) -> None:
    closed_one(db)
    response = await api.post(f"{URL}/close", json={"note": "again"})
    assert response.status_code == 200
    assert response.json()["close_reason"] == "callback"
    assert db.count(ObligationEvent) == 0


async def test_snooze_for_a_duration(
    api: httpx.AsyncClient, db: TestDatabase, clock: ManualClock
) -> None:
    open_one(db)
    response = await api.post(f"{URL}/snooze", json={"duration": "2h"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["snoozed_until"] == body["next_reminder_at"] == "2026-01-05T12:00:00Z"
    assert body["events"][-1]["kind"] == "snoozed"
    assert body["events"][-1]["actor"] == "env-token-1"


async def test_snooze_until_a_time(api: httpx.AsyncClient, db: TestDatabase) -> None:
    open_one(db)
    response = await api.post(f"{URL}/snooze", json={"until": "2026-01-06T09:00:00+01:00"})
    assert response.status_code == 200, response.text
    assert response.json()["snoozed_until"] == "2026-01-06T08:00:00Z"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"until": "2026-01-06T09:00:00Z", "duration": "2h"},
        {"duration": "soon"},
        {"duration": "0m"},
        {"until": "2026-01-06T09:00:00"},
        {"until": "2026-01-05T09:00:00Z"},
        {"duration": "400d"},
        {"duration": "9999999d"},
        {"until": "8000-01-01T00:00:00Z"},
        {"until": "0001-01-01T00:00:00+05:00"},
    ],
)
async def test_snooze_needs_exactly_one_usable_until_or_duration(
    api: httpx.AsyncClient, db: TestDatabase, body: dict[str, Any]
) -> None:
    open_one(db)
    response = await api.post(f"{URL}/snooze", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation_error"
    assert db.one(Obligation).snoozed_until is None


async def test_snoozing_a_closed_obligation_is_a_conflict(
    api: httpx.AsyncClient, db: TestDatabase
) -> None:
    closed_one(db)
    response = await api.post(f"{URL}/snooze", json={"duration": "2h"})
    assert response.status_code == 409
    assert response.json() == {"error": "conflict", "detail": "obligation 1 is closed"}


async def test_call_queues_a_click_to_call_and_notes_it(
    api: httpx.AsyncClient, db: TestDatabase
) -> None:
    obligation = open_one(db)
    response = await api.post(f"{URL}/call")
    assert response.status_code == 202, response.text
    assert response.json() == {
        "obligation_id": 1,
        "requested_at": "2026-01-05T10:00:00Z",
        "duplicate": False,
    }
    recruiter = db.one(Recruiter)
    item = db.one(OutboxItem)
    assert (item.kind, item.purpose, item.status) == (OutboxKind.CALL, "click_to_call", "pending")
    assert (item.to_number, item.from_number, item.call_target) == (
        recruiter.mobile,
        recruiter.line,
        obligation.caller,
    )
    assert item.next_attempt_at == T0
    assert db.one(OutboxObligation).obligation_id == 1
    event = db.one(ObligationEvent)
    assert (event.kind, event.actor, event.detail) == (
        "call_requested",
        "env-token-1",
        {"outbox_id": item.id},
    )


async def test_a_double_click_queues_one_call_and_a_later_request_another(
    api: httpx.AsyncClient, db: TestDatabase, clock: ManualClock
) -> None:
    open_one(db)
    assert (await api.post(f"{URL}/call")).json()["duplicate"] is False
    clock.advance(timedelta(seconds=3))
    again = await api.post(f"{URL}/call")
    assert again.status_code == 202
    assert again.json() == {
        "obligation_id": 1,
        "requested_at": "2026-01-05T10:00:00Z",
        "duplicate": True,
    }
    assert db.count(OutboxItem) == 1
    clock.advance(timedelta(minutes=5))
    assert (await api.post(f"{URL}/call")).json()["duplicate"] is False
    assert db.count(OutboxItem) == 2
    assert db.count(ObligationEvent) == 2


async def test_concurrent_clicks_queue_one_call(api: httpx.AsyncClient, db: TestDatabase) -> None:
    open_one(db)
    answers = await asyncio.gather(*[api.post(f"{URL}/call") for _ in range(4)])
    assert [a.status_code for a in answers] == [202] * 4
    assert sorted(a.json()["duplicate"] for a in answers) == [False, True, True, True]
    assert db.count(OutboxItem) == 1


async def test_calling_a_closed_obligation_is_a_conflict(
    api: httpx.AsyncClient, db: TestDatabase
) -> None:
    closed_one(db)
    response = await api.post(f"{URL}/call")
    assert (response.status_code, response.json()["error"]) == (409, "conflict")
    assert db.count(OutboxItem) == 0


async def test_a_withheld_caller_cannot_be_called(api: httpx.AsyncClient, db: TestDatabase) -> None:
    open_one(db, caller=None)
    response = await api.post(f"{URL}/call")
    assert response.status_code == 409
    assert "withheld" in response.json()["detail"]


async def test_a_deactivated_recruiter_is_not_rung(
    api: httpx.AsyncClient, db: TestDatabase
) -> None:
    obligation = open_one(db)
    await api.delete(f"/api/v1/recruiters/{obligation.recruiter_id}")
    response = await api.post(f"{URL}/call")
    assert response.status_code == 409
    assert db.count(OutboxItem) == 0


@pytest.mark.parametrize(
    ("action", "body"), [("close", {}), ("snooze", {"duration": "1h"}), ("call", None)]
)
async def test_actions_on_an_unknown_obligation_are_404(
    api: httpx.AsyncClient, db: TestDatabase, action: str, body: dict[str, str] | None
) -> None:
    response = await api.post(f"/api/v1/obligations/9/{action}", json=body)
    assert (response.status_code, response.json()["error"]) == (404, "not_found")
