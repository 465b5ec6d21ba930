"""Delivery: at least once, the same id and body on every attempt, backoff for 24 h, a
subscription disabled after days of failures, a delivery log, and redelivery."""

import asyncio
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.clock import ManualClock
from app.config import Settings
from app.models import Recruiter, WebhookDeliveryStatus, WebhookEvent, WebhookSubscription
from app.outbox.worker import Worker
from app.runtime import Runtime
from app.webhooks.dispatch import backoff
from app.webhooks.loop import WebhookLoop
from tests.outbox.helpers import missed_call
from tests.support.databases import TestDatabase
from tests.support.factories import T0
from tests.support.fake_twilio import FakeTwilio
from tests.support.receiver import Receiver
from tests.webhooks.conftest import Subscribe, deliveries

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def one_event(
    sessions: Sessions,
    settings: Settings,
    recruiter: Recruiter,
    subscribe: Subscribe,
    clock: ManualClock,
) -> dict[str, Any]:
    """A subscription to `obligation.opened`, and one missed call at T0 (the clock's now)."""
    clock.set(T0)
    hook = await subscribe("obligation.opened")
    await missed_call(sessions, settings, recruiter, at=T0)
    return hook


def test_backoff_starts_at_5_s_doubles_and_stops_growing_at_2_h() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert backoff(11) == timedelta(seconds=5120)
    assert backoff(12) == timedelta(hours=2) == backoff(40)


async def test_a_failing_receiver_gets_the_same_id_and_body_until_it_answers(
    one_event: dict[str, Any],
    hooks: WebhookLoop,
    receiver: Receiver,
    clock: ManualClock,
    db: TestDatabase,
) -> None:
    receiver.fail_next = 2
    await hooks.run_once()
    [delivery] = deliveries(db)
    assert delivery.status is WebhookDeliveryStatus.PENDING
    assert delivery.next_attempt_at == T0 + timedelta(seconds=5)
    assert delivery.error == "answered HTTP 500" and delivery.response_status == 500
    await hooks.run_once()
    assert len(receiver.received) == 1  # not due yet
    clock.advance(timedelta(seconds=5))
    await hooks.run_once()
    clock.advance(timedelta(seconds=10))
    await hooks.run_once()
    assert len({(r.message_id, r.body) for r in receiver.received}) == 1
    assert receiver.duplicates() == 2 and all(r.signed for r in receiver.received)
    assert len({r.timestamp for r in receiver.received}) == 3  # each attempt signed afresh
    [delivery] = deliveries(db)
    assert delivery.status is WebhookDeliveryStatus.DELIVERED and delivery.attempts == 3
    assert delivery.message_id == receiver.received[0].message_id


async def test_a_delivery_is_retried_for_24_hours_then_given_up(
    one_event: dict[str, Any],
    hooks: WebhookLoop,
    receiver: Receiver,
    clock: ManualClock,
    db: TestDatabase,
) -> None:
    receiver.fail_next = 10_000
    while (delivery := (deliveries(db) or [None])[0]) is None or delivery.status in (
        WebhookDeliveryStatus.PENDING,
    ):
        if delivery is not None:
            clock.set(delivery.next_attempt_at)
        await hooks.run_once()
    assert delivery.status is WebhookDeliveryStatus.FAILED
    assert delivery.last_attempt_at is not None
    assert T0 + timedelta(hours=22) <= delivery.last_attempt_at <= T0 + timedelta(hours=24)
    assert delivery.attempts == len(receiver.received) == 22
    clock.advance(timedelta(days=1))
    await hooks.run_once()
    assert len(receiver.received) == 22


async def test_a_subscription_failing_for_days_is_disabled_with_the_reason(
    one_event: dict[str, Any],
    hooks: WebhookLoop,
    receiver: Receiver,
    api: httpx.AsyncClient,
    db: TestDatabase,
) -> None:
    with db.session() as session, session.begin():
        session.execute(
            update(WebhookSubscription).values(failing_since=T0 - timedelta(days=5, seconds=1))
        )
    receiver.fail_next = 1
    await hooks.run_once()
    hook = (await api.get(f"/api/v1/webhooks/{one_event['id']}")).json()
    assert hook["enabled"] is False
    assert "every delivery failed since" in hook["disabled_reason"]
    assert "answered HTTP 500" in hook["disabled_reason"]


async def test_one_success_ends_a_run_of_failures(
    one_event: dict[str, Any], hooks: WebhookLoop, receiver: Receiver, db: TestDatabase
) -> None:
    with db.session() as session, session.begin():
        session.execute(update(WebhookSubscription).values(failing_since=T0 - timedelta(days=4)))
    await hooks.run_once()
    assert db.one(WebhookSubscription).failing_since is None


async def test_the_delivery_log_shows_attempts_and_redeliver_sends_the_same_message_again(
    one_event: dict[str, Any],
    hooks: WebhookLoop,
    receiver: Receiver,
    api: httpx.AsyncClient,
) -> None:
    receiver.fail_next = 1
    await hooks.run_once()
    log_path = f"/api/v1/webhooks/{one_event['id']}/deliveries"
    [entry] = (await api.get(log_path)).json()["items"]
    assert entry["status"] == "pending" and entry["attempts"] == 1
    assert entry["error"] == "answered HTTP 500" and entry["event_type"] == "obligation.opened"
    redelivered = await api.post(f"{log_path}/{entry['id']}/redeliver")
    assert redelivered.status_code == 202
    await hooks.run_once()
    [entry] = (await api.get(log_path)).json()["items"]
    assert entry["status"] == "delivered" and entry["attempts"] == 2
    again = await api.post(f"{log_path}/{entry['id']}/redeliver")
    assert again.status_code == 202
    await hooks.run_once()
    assert receiver.duplicates() == 2 and len({r.body for r in receiver.received}) == 1
    assert (await api.post(f"{log_path}/999/redeliver")).status_code == 404


async def test_a_delivery_left_sending_by_a_crashed_worker_goes_again_after_its_lease(
    one_event: dict[str, Any],
    hooks: WebhookLoop,
    receiver: Receiver,
    clock: ManualClock,
    db: TestDatabase,
) -> None:
    async with hooks.runtime.sessions() as session, session.begin():
        from app.webhooks.fanout import fan_out

        await fan_out(session, now=clock.now())
    claimed = await hooks.sender._claim()  # the worker dies here, before its POST
    assert len(claimed) == 1 and deliveries(db)[0].status is WebhookDeliveryStatus.SENDING
    await hooks.run_once()
    assert receiver.received == []
    clock.advance(timedelta(seconds=61))
    await hooks.run_once()
    assert [r.message_id for r in receiver.received] == [claimed[0].message_id]
    assert deliveries(db)[0].status is WebhookDeliveryStatus.DELIVERED


async def test_a_hanging_receiver_times_out_and_is_retried(
    one_event: dict[str, Any], hooks: WebhookLoop, receiver: Receiver, db: TestDatabase
) -> None:
    receiver.hang()
    started = time.monotonic()
    await hooks.run_once()
    assert time.monotonic() - started < 5
    [delivery] = deliveries(db)
    assert delivery.status is WebhookDeliveryStatus.PENDING
    assert delivery.error == "no answer within 1 s"


async def test_a_hanging_receiver_never_holds_nudges(
    one_event: dict[str, Any],
    runtime: Runtime,
    receiver: Receiver,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    """The worker's webhook loop hangs on the receiver (10 s timeout) while nudges go out."""
    receiver.hang()
    worker = Worker(runtime, name="test-worker")
    running = asyncio.create_task(worker.run())
    try:
        await _until(lambda: bool(receiver.received))  # the webhook hangs in its own loop...
        clock.set(T0 + timedelta(minutes=2))  # ...when the first nudge falls due
        await _until(lambda: bool(fake_twilio.messages))
        assert len(fake_twilio.messages) == 1 and len(receiver.received) == 1
    finally:
        worker.stop()
        started = time.monotonic()
        await running
        receiver.release()
    assert time.monotonic() - started < 5  # stopping does not wait out the receiver


async def _until(condition: Callable[[], bool], seconds: float = 3.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_two_workers_passing_at_once_deliver_each_message_once(
    sessions: Sessions,
    settings: Settings,
    recruiter: Recruiter,
    subscribe: Subscribe,
    runtime: Runtime,
    clock: ManualClock,
    receiver: Receiver,
) -> None:
    clock.set(T0)
    await subscribe("obligation.opened")
    for n in range(6):
        await missed_call(sessions, settings, recruiter, at=T0, caller=f"+4477009001{n:02d}")
    second = Runtime.start(settings, clock)
    try:
        first_loop, second_loop = WebhookLoop(runtime), WebhookLoop(second)
        await asyncio.gather(first_loop.run_once(), second_loop.run_once())
        await asyncio.gather(first_loop.run_once(), second_loop.run_once())
    finally:
        await second.stop()
    assert len(receiver.received) == 6 and receiver.duplicates() == 0


async def test_the_delivery_log_keeps_30_days(
    one_event: dict[str, Any],
    hooks: WebhookLoop,
    receiver: Receiver,
    clock: ManualClock,
    db: TestDatabase,
) -> None:
    await hooks.run_once()
    clock.advance(timedelta(days=30))
    await hooks.run_once()
    assert len(deliveries(db)) == 1
    clock.advance(timedelta(seconds=1))
    await hooks.run_once()
    assert deliveries(db) == []
    assert db.all(WebhookEvent, WebhookEvent.type == "obligation.opened") == []
