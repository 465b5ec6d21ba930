"""Click-to-call items, the console backend, clean stops, and the worker inside the service."""

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from app.clock import ManualClock
from app.config import Settings
from app.db import unit_of_work
from app.http.health import observe
from app.main import create_app
from app.models import Obligation, ObligationEvent, OutboxItem, OutboxKind, OutboxStatus
from app.obligations.service import locked
from app.outbox.sender import SENDING_LEASE
from app.outbox.worker import Worker
from app.twilio.outbound import CALL_EVENTS, Outgoing, TwilioTransport
from app.voice.click_to_call import request_call
from tests.outbox.helpers import (
    Sessions,
    first_nudge,
    missed_call,
    posts,
    queue_call,
    sms_to,
)
from tests.support.databases import TestDatabase
from tests.support.factories import T0, make_recruiter
from tests.support.fake_twilio import FakeTwilio

MINUTE = timedelta(minutes=1)


async def test_a_call_item_rings_the_recruiter_from_their_line(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    worker: Worker,
    fake_twilio: FakeTwilio,
) -> None:
    recruiter = make_recruiter(db)
    outbox_id = await queue_call(sessions, recruiter, T0)
    await worker.run_once()
    [call] = fake_twilio.calls
    assert (call["to"], call["from"]) == (recruiter.mobile, recruiter.line)
    assert call["url"] == settings.public_url(f"/twilio/voice/connect?outbox={outbox_id}")
    [created] = [r for r in fake_twilio.requests if r.method == "POST"]
    assert created.value("StatusCallback") == settings.public_url("/twilio/voice/status")
    assert created.form["StatusCallbackEvent"] == CALL_EVENTS
    item = db.one(OutboxItem)
    assert (item.status, item.twilio_sid) == (OutboxStatus.SENT, call["sid"])


async def test_a_call_is_retried_after_a_503_and_placed_once(
    db: TestDatabase,
    sessions: Sessions,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    recruiter = make_recruiter(db)
    await queue_call(sessions, recruiter, T0)
    fake_twilio.fail_next(status=503, method="POST", path_contains="Calls")
    await worker.run_once()
    clock.advance(timedelta(minutes=5))
    await worker.run_once()
    assert len(fake_twilio.calls) == 1 and db.one(OutboxItem).status is OutboxStatus.SENT


async def test_a_refused_call_fails_without_retrying(
    db: TestDatabase,
    sessions: Sessions,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    recruiter = make_recruiter(db)
    await queue_call(sessions, recruiter, T0)
    fake_twilio.fail_next(status=400, code=21211, method="POST", path_contains="Calls")
    await worker.run_once()
    clock.advance(timedelta(hours=1))
    await worker.run_once()
    item = db.one(OutboxItem)
    assert (item.status, item.error_code, posts(fake_twilio, "Calls")) == (
        OutboxStatus.FAILED,
        21211,
        1,
    )


async def test_a_click_to_call_refused_for_good_shows_on_the_obligations_timeline(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    recruiter = make_recruiter(db)
    obligation_id = await missed_call(sessions, settings, recruiter, at=T0)
    assert obligation_id is not None
    clock.set(T0 + MINUTE)
    async with unit_of_work(sessions) as session:
        await request_call(
            session,
            obligation=await locked(session, obligation_id),
            actor="ops",
            at=clock.now(),
            settings=settings,
        )
    fake_twilio.fail_next(status=400, code=21211, method="POST", path_contains="Calls")
    await worker.run_once()
    item = db.one(OutboxItem)
    [failed] = db.all(ObligationEvent, ObligationEvent.kind == "call_failed")
    assert (failed.obligation_id, failed.at, failed.actor) == (obligation_id, clock.now(), "worker")
    assert failed.detail == {"outbox_id": item.id, "code": 21211}


async def test_a_call_a_crashed_worker_had_placed_is_found_in_the_calls_list(
    db: TestDatabase,
    sessions: Sessions,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    recruiter = make_recruiter(db)
    await queue_call(sessions, recruiter, T0)
    fake_twilio.fail_next(accept=True, drop=True, method="POST", path_contains="Calls")
    await worker.run_once()
    with db.session() as session:  # as if the worker had died instead of seeing the error
        item = session.query(OutboxItem).one()
        item.status, item.claimed_at, item.claimed_by = OutboxStatus.SENDING, T0, "dead"
        session.commit()
    clock.advance(SENDING_LEASE + MINUTE)
    await worker.run_once()
    [call] = fake_twilio.calls
    assert db.one(OutboxItem).twilio_sid == call["sid"]
    assert posts(fake_twilio, "Calls") == 1


def test_an_older_call_between_the_same_numbers_is_not_taken_for_it(
    settings: Settings, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.add(
        "Calls",
        to="+14155550100",
        **{"from": "+15005550006"},
        direction="outbound-api",
        date_created="Mon, 01 Dec 2025 10:00:00 +0000",
    )
    fake_twilio.add("Calls", to="+14155550100", **{"from": "+15005550006"}, direction="inbound")
    item = Outgoing(1, OutboxKind.CALL, "+14155550100", "+15005550006", None, T0)
    assert TwilioTransport(settings).find(item) == []


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {}


@pytest.mark.parametrize("settings_overrides", [{"sms_backend": "console"}])
async def test_the_console_backend_prints_the_sms_and_stores_it_as_sent(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    recruiter = await first_nudge(db, sessions, settings, clock)
    await worker.run_once()
    printed = capsys.readouterr().out
    assert f"SMS to {recruiter.mobile} from {recruiter.line}" in printed
    assert f"#{db.one(Obligation).id} Call back +44 7700 900123" in printed
    item = db.one(OutboxItem)
    assert (item.status, item.twilio_sid, item.sent_at) == (OutboxStatus.SENT, None, clock.now())
    assert fake_twilio.requests == []
    assert not any(recruiter.mobile in r.getMessage() for r in caplog.records)


async def test_a_stopping_worker_finishes_the_item_in_hand_and_hands_back_the_rest(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    for _ in range(3):
        await first_nudge(db, sessions, settings, clock)
    sends = worker.sender.transport.send

    def send_then_stop(item: Outgoing) -> str | None:
        worker.stop()  # SIGTERM arrives while this SMS is in hand
        return sends(item)

    worker.sender.transport.send = send_then_stop
    await worker.run_once()
    assert len(fake_twilio.messages) == 1
    statuses = sorted((i.status.value, i.attempts) for i in db.all(OutboxItem))
    assert statuses == [("pending", 0), ("pending", 0), ("sent", 1)]


async def test_the_service_runs_the_worker_inside_it(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    recruiter = await first_nudge(db, sessions, settings, clock)
    app = create_app(settings, clock=clock, run_worker=True)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as http:
            assert (await http.get("/healthz")).status_code == 200
        for _ in range(200):
            if sms_to(fake_twilio, recruiter.mobile):
                break
            await asyncio.sleep(0.025)
    assert len(sms_to(fake_twilio, recruiter.mobile)) == 1


async def test_the_gauges_show_the_outbox_backlog_and_how_late_the_worker_is(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    recruiter = make_recruiter(db)
    await missed_call(sessions, settings, recruiter, at=T0)
    clock.set(T0 + 2 * MINUTE + timedelta(seconds=30))
    fake_twilio.fail_next(status=500, method="POST")
    sent_before = metric("callpledge_nudges_total", outcome="sent")
    await observe(sessions, clock.now())  # what a scrape of /metrics does
    assert metric("callpledge_worker_lag_seconds") == 30
    assert metric("callpledge_outbox_backlog") == 0
    await worker.run_once()
    clock.advance(timedelta(seconds=10))
    await observe(sessions, clock.now())
    assert metric("callpledge_outbox_backlog") == 1
    assert 8 <= metric("callpledge_worker_lag_seconds") <= 10
    await worker.run_once()
    assert metric("callpledge_nudges_total", outcome="sent") == sent_before + 1
    assert len(sms_to(fake_twilio, recruiter.mobile)) == 1


def metric(name: str, **labels: str) -> float:
    """A sample's current value (a counter never incremented reads 0)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_a_failed_pass_is_logged_without_details_and_the_next_one_goes_on(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
    caplog: pytest.LogCaptureFixture,
) -> None:
    recruiter = await first_nudge(db, sessions, settings, clock)
    send_due, failures = worker.sender.send_due, [OSError(f"cannot reach {recruiter.mobile}")]

    async def flaky(stopping: Any) -> int:
        if failures:
            raise failures.pop()
        return await send_due(stopping)

    worker.sender.send_due = flaky
    running = asyncio.create_task(worker.run())
    for _ in range(200):
        if sms_to(fake_twilio, recruiter.mobile):
            break
        await asyncio.sleep(0.025)
    worker.stop()
    await running
    assert len(sms_to(fake_twilio, recruiter.mobile)) == 1
    assert "worker pass failed (OSError)" in caplog.text
    assert recruiter.mobile not in caplog.text
