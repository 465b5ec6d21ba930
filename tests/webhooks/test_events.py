"""Which changes become events, written with the change and delivered signed."""

from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.clock import ManualClock
from app.config import Settings
from app.courtesy.overdue import overdue_at
from app.db import unit_of_work
from app.models import CloseReason, Obligation, ObligationStatus, Recruiter, WebhookEvent
from app.obligations.service import locked, record_attempt
from app.outbox.worker import Worker
from app.reminders.policy import NudgePolicy
from app.runtime import Runtime
from app.simulator.exchange import CallScript
from app.simulator.twilio import TwilioSimulator
from app.webhooks.loop import WebhookLoop
from tests.outbox.helpers import CALLER, missed_call
from tests.support.databases import TestDatabase, explain
from tests.support.factories import T0, make_obligation
from tests.support.fake_twilio import FakeTwilio
from tests.support.receiver import Receiver
from tests.webhooks.conftest import Subscribe

Sessions = async_sessionmaker[AsyncSession]
H = timedelta(hours=1)


async def test_a_missed_call_its_transcript_a_repeat_and_a_close_reach_the_receiver_signed(
    twilio: TwilioSimulator,
    recruiter: Recruiter,
    api: httpx.AsyncClient,
    subscribe: Subscribe,
    hooks: WebhookLoop,
    receiver: Receiver,
    db: TestDatabase,
) -> None:
    await subscribe()
    await twilio.call(CallScript(caller=CALLER, line=recruiter.line, message="Call me back"))
    await twilio.call(CallScript(caller=CALLER, line=recruiter.line))
    obligation = db.one(Obligation)
    await api.post(f"/api/v1/obligations/{obligation.id}/close", json={"note": "done"})
    await hooks.run_once()
    # Delivered concurrently: in no promised order (receivers order by `timestamp`).
    by_type = {r.payload["type"]: r.payload for r in receiver.received}
    assert (
        sorted(receiver.types())
        == sorted(by_type)
        == [
            "obligation.closed",
            "obligation.missed_again",
            "obligation.opened",
            "voicemail.transcribed",
        ]
    )
    assert all(r.signed for r in receiver.received)
    opened, again = by_type["obligation.opened"], by_type["obligation.missed_again"]
    closed = by_type["obligation.closed"]
    assert opened["data"]["caller"] == CALLER and opened["data"]["missed_calls"] == 1
    assert again["data"]["missed_calls"] == 2
    assert closed["data"]["reason"] == "ops" and closed["data"]["obligation_id"] == obligation.id
    assert receiver.duplicates() == 0


async def test_without_a_subscription_no_event_is_stored(
    twilio: TwilioSimulator, recruiter: Recruiter, db: TestDatabase
) -> None:
    await twilio.call(CallScript(caller=CALLER, line=recruiter.line, message="Call me back"))
    assert db.one(Obligation).missed_calls == 1
    assert db.all(WebhookEvent) == []


async def test_an_event_only_goes_to_subscriptions_that_asked_for_its_type(
    twilio: TwilioSimulator,
    recruiter: Recruiter,
    subscribe: Subscribe,
    hooks: WebhookLoop,
    receiver: Receiver,
) -> None:
    await subscribe("obligation.missed_again")
    await twilio.call(CallScript(caller=CALLER, line=recruiter.line, message="Call me back"))
    await twilio.call(CallScript(caller=CALLER, line=recruiter.line))
    await hooks.run_once()
    assert receiver.types() == ["obligation.missed_again"]


async def test_an_unanswered_callback_is_callback_attempted(
    sessions: Sessions,
    settings: Settings,
    recruiter: Recruiter,
    subscribe: Subscribe,
    hooks: WebhookLoop,
    receiver: Receiver,
) -> None:
    await subscribe("callback.attempted")
    obligation_id = await missed_call(sessions, settings, recruiter, at=T0)
    assert obligation_id is not None
    async with unit_of_work(sessions) as session:
        await record_attempt(
            session,
            obligation=await locked(session, obligation_id),
            at=T0 + timedelta(minutes=5),
            outcome="no-answer",
            call_sid="CA" + "7" * 32,
            actor="twilio",
            policy=NudgePolicy.of(settings),
        )
    await hooks.run_once()
    [attempt] = [r.payload for r in receiver.received]
    assert attempt["type"] == "callback.attempted"
    assert attempt["data"]["outcome"] == "no-answer" and attempt["data"]["status"] == "open"


async def test_overdue_is_announced_once_per_obligation_when_its_promise_passes(
    recruiter: Recruiter,
    subscribe: Subscribe,
    hooks: WebhookLoop,
    receiver: Receiver,
    clock: ManualClock,
    db: TestDatabase,
) -> None:
    await subscribe("obligation.overdue")
    db.add(make_obligation(recruiter, opened_at=T0, promised_by=T0 + 4 * H))
    clock.set(T0 + 4 * H)  # the promise is the deadline itself: not past it yet
    assert (await hooks.run_once()).overdue == 0
    clock.set(T0 + 4 * H + timedelta(seconds=1))
    assert (await hooks.run_once()).overdue == 1
    assert (await hooks.run_once()).overdue == 0
    assert receiver.types() == ["obligation.overdue"]
    assert db.one(Obligation).overdue_at == T0 + 4 * H + timedelta(seconds=1)


async def test_an_obligation_without_a_promise_is_never_announced_overdue(
    recruiter: Recruiter,
    subscribe: Subscribe,
    hooks: WebhookLoop,
    receiver: Receiver,
    clock: ManualClock,
    db: TestDatabase,
) -> None:
    await subscribe("obligation.overdue")
    db.add(make_obligation(recruiter, opened_at=T0))
    clock.set(T0 + timedelta(days=30))
    assert (await hooks.run_once()).overdue == 0
    assert receiver.types() == [] and db.one(Obligation).overdue_at is None


async def test_a_closed_obligation_past_its_promise_is_not_announced(
    recruiter: Recruiter, hooks: WebhookLoop, clock: ManualClock, db: TestDatabase
) -> None:
    db.add(
        make_obligation(
            recruiter,
            promised_by=T0 + H,
            status=ObligationStatus.CLOSED,
            closed_at=T0 + 2 * H,
            close_reason=CloseReason.OPS,
        )
    )
    clock.set(T0 + 3 * H)
    assert (await hooks.run_once()).overdue == 0


async def test_overdue_is_the_listings_notion_longest_overdue_announced_first(
    recruiter: Recruiter,
    api: httpx.AsyncClient,
    subscribe: Subscribe,
    hooks: WebhookLoop,
    receiver: Receiver,
    clock: ManualClock,
    db: TestDatabase,
) -> None:
    await subscribe("obligation.overdue")
    for hours, caller in ((3, "+447700900001"), (1, "+447700900002"), (5, "+447700900003")):
        db.add(make_obligation(recruiter, caller=caller, promised_by=T0 - hours * H))
    db.add(make_obligation(recruiter, caller="+447700900004", promised_by=T0 + H))
    clock.set(T0)
    listed = (await api.get("/api/v1/obligations?overdue=true")).json()["items"]

    assert (await hooks.run_once()).overdue == 3

    announced = {r.payload["data"]["obligation_id"] for r in receiver.received}
    assert announced == {item["id"] for item in listed}
    assert [item["caller"] for item in listed] == [
        "+447700900003",
        "+447700900001",
        "+447700900002",
    ]


def test_the_overdue_pass_reads_the_index_of_unannounced_promises(db: TestDatabase) -> None:
    statement = (
        select(Obligation.id)
        .where(*overdue_at(T0), Obligation.overdue_at.is_(None))
        .order_by(Obligation.status, Obligation.promised_by, Obligation.id)
        .limit(100)
    )
    plan = explain(db, statement)
    assert "ix_obligations_overdue_unannounced" in plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan


async def test_nudge_sent_goes_out_when_twilio_accepts_the_sms_and_not_before(
    sessions: Sessions,
    settings: Settings,
    recruiter: Recruiter,
    subscribe: Subscribe,
    hooks: WebhookLoop,
    receiver: Receiver,
    runtime: Runtime,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    await subscribe("nudge.sent")
    obligation_id = await missed_call(sessions, settings, recruiter, at=T0)
    clock.set(T0 + timedelta(minutes=2))
    fake_twilio.fail_next(status=503, code=20500)
    worker = Worker(runtime, name="test-worker")
    await worker.run_once()  # queued, but Twilio said 503: not sent yet
    await hooks.run_once()
    assert receiver.received == []
    clock.set(T0 + timedelta(minutes=5))
    await worker.run_once()
    await hooks.run_once()
    [nudge] = [r.payload for r in receiver.received]
    assert nudge["type"] == "nudge.sent" and nudge["data"]["obligation_id"] == obligation_id
    assert nudge["data"]["purpose"] == "nudge" and len(fake_twilio.messages) == 1
