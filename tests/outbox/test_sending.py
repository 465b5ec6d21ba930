"""Sending the outbox through the fake Twilio: retries, permanent refusals, nothing twice."""

from datetime import timedelta
from typing import Any

import httpx
import pytest

from app.clock import ManualClock
from app.config import Settings
from app.db import unit_of_work
from app.models import (
    CloseReason,
    Obligation,
    ObligationEvent,
    OutboxItem,
    OutboxStatus,
    Recruiter,
)
from app.obligations.service import close, locked, snooze
from app.outbox.sender import SENDING_LEASE, backoff
from app.outbox.worker import Worker
from app.reminders.queue import Nudging, queue_due_nudges
from app.twilio.outbound import Outgoing
from tests.outbox.helpers import Sessions, first_nudge, posts, sms_to
from tests.support.databases import TestDatabase
from tests.support.factories import T0
from tests.support.fake_twilio import FakeTwilio

MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)
RETRY_CAP = timedelta(minutes=5)


@pytest.fixture
async def recruiter(
    db: TestDatabase, sessions: Sessions, settings: Settings, clock: ManualClock
) -> Recruiter:
    """A recruiter whose first nudge is due now."""
    return await first_nudge(db, sessions, settings, clock)


async def close_or_snooze(sessions: Sessions, obligation_id: int, at: Any, how: str) -> None:
    async with unit_of_work(sessions) as session:
        obligation = await locked(session, obligation_id)
        if how == "closed":
            await close(
                session, obligation=obligation, reason=CloseReason.OPS, actor="ops:test", at=at
            )
        else:
            await snooze(session, obligation=obligation, until=at + HOUR, actor="ops:test", at=at)


def test_the_backoff_starts_near_a_second_doubles_and_is_capped() -> None:
    def middle() -> float:
        return 0.5

    assert [backoff(n, RETRY_CAP, middle).total_seconds() for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert backoff(30, RETRY_CAP, middle) == RETRY_CAP
    assert backoff(1, RETRY_CAP, lambda: 0.0) == timedelta(seconds=0.8)
    assert backoff(1, RETRY_CAP, lambda: 1.0) == timedelta(seconds=1.2)


async def test_a_500_then_a_429_end_in_exactly_one_sms(
    recruiter: Recruiter,
    db: TestDatabase,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    fake_twilio.fail_next(status=500, method="POST")
    fake_twilio.fail_next(status=429, method="POST")
    await worker.run_once()
    item = db.one(OutboxItem)
    assert (item.status, item.attempts, item.error_code) == (OutboxStatus.PENDING, 1, 20500)
    assert clock.now() + timedelta(seconds=0.8) <= item.next_attempt_at
    assert item.next_attempt_at <= clock.now() + timedelta(seconds=1.2)
    for _ in range(3):
        clock.advance(RETRY_CAP)
        await worker.run_once()
    [message] = sms_to(fake_twilio, recruiter.mobile)
    item = db.one(OutboxItem)
    assert (item.status, item.attempts, item.twilio_sid) == (OutboxStatus.SENT, 3, message["sid"])
    assert item.error_code is None and posts(fake_twilio) == 3


async def test_an_unreachable_twilio_is_retried_until_it_answers(
    recruiter: Recruiter,
    db: TestDatabase,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    fake_twilio.down()
    await worker.run_once()
    clock.advance(RETRY_CAP)
    await worker.run_once()
    assert db.one(OutboxItem).attempts == 2
    fake_twilio.up()
    clock.advance(RETRY_CAP)
    await worker.run_once()
    assert len(sms_to(fake_twilio, recruiter.mobile)) == 1
    assert db.one(OutboxItem).status is OutboxStatus.SENT


@pytest.mark.parametrize("closed_meanwhile", [False, True], ids=["open", "closed-meanwhile"])
async def test_an_sms_twilio_took_whose_answer_was_lost_is_found_not_sent_again(
    recruiter: Recruiter,
    db: TestDatabase,
    sessions: Sessions,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
    closed_meanwhile: bool,
) -> None:
    """Closed before the retry, the nudge still counts as sent: Twilio holds it."""
    fake_twilio.fail_next(accept=True, drop=True, method="POST")
    await worker.run_once()
    assert db.one(OutboxItem).status is OutboxStatus.PENDING
    if closed_meanwhile:
        await close_or_snooze(sessions, db.one(Obligation).id, clock.now(), "closed")
    clock.advance(RETRY_CAP)
    await worker.run_once()
    [message] = sms_to(fake_twilio, recruiter.mobile)
    item = db.one(OutboxItem)
    assert (item.status, item.twilio_sid) == (OutboxStatus.SENT, message["sid"])
    assert posts(fake_twilio) == 1


@pytest.mark.parametrize("how", ["closed", "snoozed"])
async def test_a_nudge_waiting_for_a_retry_is_not_sent_once_its_obligation_is_dealt_with(
    recruiter: Recruiter,
    db: TestDatabase,
    sessions: Sessions,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
    how: str,
) -> None:
    fake_twilio.fail_next(status=503, method="POST")
    await worker.run_once()
    assert db.one(OutboxItem).status is OutboxStatus.PENDING
    await close_or_snooze(sessions, db.one(Obligation).id, clock.now(), how)

    clock.advance(RETRY_CAP)
    await worker.run_once()
    assert sms_to(fake_twilio, recruiter.mobile) == []
    assert db.one(OutboxItem).status is OutboxStatus.CANCELLED
    if how == "snoozed":  # the next nudge goes when the snooze ends
        clock.advance(HOUR)
        await worker.run_once()
        [message] = sms_to(fake_twilio, recruiter.mobile)
        assert message["body"].startswith(f"#{db.one(Obligation).id} ")


async def test_21610_stops_at_once_and_flags_the_recruiter_and_the_obligation(
    recruiter: Recruiter,
    db: TestDatabase,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    fake_twilio.refuse(recruiter.mobile, 21610)
    await worker.run_once()
    for _ in range(5):
        clock.advance(RETRY_CAP)
        await worker.run_once()
    assert posts(fake_twilio) == 1 and fake_twilio.messages == []
    item = db.one(OutboxItem)
    assert (item.status, item.attempts, item.error_code) == (OutboxStatus.FAILED, 1, 21610)
    flagged = db.one(Recruiter)
    assert flagged.sms_blocked_at == T0 + 2 * MINUTE and flagged.sms_error_code == 21610
    assert db.one(Obligation).sms_error_code == 21610
    [failed] = db.all(ObligationEvent, ObligationEvent.kind == "nudge_failed")
    assert failed.detail == {"outbox_id": item.id, "purpose": "nudge", "code": 21610}


API_TOKEN = "worker-tests-api-token"


@pytest.mark.parametrize("settings_overrides", [{"api_tokens": API_TOKEN}], indirect=True)
async def test_21610_flags_show_through_the_ops_api(
    recruiter: Recruiter,
    db: TestDatabase,
    worker: Worker,
    fake_twilio: FakeTwilio,
    client: httpx.AsyncClient,
) -> None:
    fake_twilio.refuse(recruiter.mobile, 21610)
    await worker.run_once()
    assert db.one(OutboxItem).status is OutboxStatus.FAILED
    client.headers["Authorization"] = f"Bearer {API_TOKEN}"
    shown = await client.get(f"/api/v1/recruiters/{recruiter.id}")
    assert shown.status_code == 200, shown.text
    assert (shown.json()["sms_blocked_at"], shown.json()["sms_error_code"]) == (
        "2026-01-05T10:02:00Z",
        21610,
    )
    obligation = await client.get(f"/api/v1/obligations/{db.one(Obligation).id}")
    assert obligation.status_code == 200, obligation.text
    assert obligation.json()["sms_error_code"] == 21610


async def test_once_the_recruiter_can_be_reached_again_the_flags_clear(
    recruiter: Recruiter,
    db: TestDatabase,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    fake_twilio.refuse(recruiter.mobile, 21610)
    await worker.run_once()
    fake_twilio.refused_numbers.clear()  # the recruiter texted START
    clock.set(T0 + 2 * MINUTE + HOUR)
    await worker.run_once()
    assert len(sms_to(fake_twilio, recruiter.mobile)) == 1
    unflagged = db.one(Recruiter)
    assert (unflagged.sms_blocked_at, unflagged.sms_error_code) == (None, None)
    assert db.one(Obligation).sms_error_code is None


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    return getattr(request, "param", {})


@pytest.mark.parametrize(
    "settings_overrides", [{"escalate_after": 1, "reminder_schedule": "2m,1h"}], indirect=True
)
async def test_a_bad_escalation_number_flags_the_obligation_not_the_recruiter(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    recruiter = await first_nudge(db, sessions, settings, clock, escalation_number="+15005550001")
    fake_twilio.refuse("+15005550001", 21211)
    await worker.run_once()
    clock.advance(HOUR)
    await worker.run_once()
    assert db.one(OutboxItem, OutboxItem.purpose == "escalation").status is OutboxStatus.FAILED
    assert db.one(Obligation).sms_error_code == 21211
    assert db.one(Recruiter).sms_blocked_at is None
    assert len(sms_to(fake_twilio, recruiter.mobile)) == 2


@pytest.mark.parametrize(
    "settings_overrides", [{"twilio_messaging_service_sid": "MG" + "a" * 32}], indirect=True
)
@pytest.mark.usefixtures("recruiter")
async def test_with_a_messaging_service_the_sms_goes_through_it(
    worker: Worker, fake_twilio: FakeTwilio
) -> None:
    await worker.run_once()
    [created] = [r for r in fake_twilio.requests if r.method == "POST"]
    assert created.value("MessagingServiceSid") == "MG" + "a" * 32
    assert created.value("From") is None


@pytest.mark.usefixtures("recruiter")
async def test_the_status_callback_carries_the_outbox_id(
    db: TestDatabase, settings: Settings, worker: Worker, fake_twilio: FakeTwilio
) -> None:
    await worker.run_once()
    [created] = [r for r in fake_twilio.requests if r.method == "POST"]
    item = db.one(OutboxItem)
    assert created.value("StatusCallback") == settings.public_url(
        f"/twilio/sms/status?outbox={item.id}"
    )


async def crashed_mid_send(
    db: TestDatabase, sessions: Sessions, settings: Settings, clock: ManualClock, worker: Worker
) -> OutboxItem:
    """A nudge that a worker claimed and then died with; the lease has run out."""
    await first_nudge(db, sessions, settings, clock)
    await queue_due_nudges(
        worker.runtime.sessions, nudging=Nudging.of(settings), now=clock.now, stopping=lambda: False
    )
    with db.session() as session:
        item = session.query(OutboxItem).one()
        item.status, item.attempts = OutboxStatus.SENDING, 1
        item.claimed_at, item.claimed_by = clock.now(), "dead-worker"
        session.commit()
    clock.advance(SENDING_LEASE + timedelta(seconds=1))
    return item


async def test_an_item_a_crashed_worker_had_sent_is_found_and_not_sent_again(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    item = await crashed_mid_send(db, sessions, settings, clock, worker)
    sent = fake_twilio.add(
        "Messages", to=item.to_number, **{"from": item.from_number}, body=item.body
    )
    await worker.run_once()
    recovered = db.one(OutboxItem)
    assert (recovered.status, recovered.twilio_sid) == (OutboxStatus.SENT, sent["sid"])
    assert posts(fake_twilio) == 0


async def test_the_same_text_sent_long_ago_is_not_taken_for_the_crashed_item(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    item = await crashed_mid_send(db, sessions, settings, clock, worker)
    fake_twilio.add(
        "Messages",
        to=item.to_number,
        **{"from": item.from_number},
        body=item.body,
        date_created="Mon, 01 Dec 2025 10:00:00 +0000",
    )
    await worker.run_once()
    assert posts(fake_twilio) == 1
    assert db.one(OutboxItem).twilio_sid == sms_to(fake_twilio, item.to_number)[-1]["sid"]


async def test_an_item_a_crashed_worker_never_sent_is_sent_once(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    item = await crashed_mid_send(db, sessions, settings, clock, worker)
    await worker.run_once()
    await worker.run_once()
    assert len(sms_to(fake_twilio, item.to_number)) == 1
    assert db.one(OutboxItem).status is OutboxStatus.SENT


async def test_an_item_in_flight_within_its_lease_is_left_alone(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    await crashed_mid_send(db, sessions, settings, clock, worker)
    clock.advance(-SENDING_LEASE)
    await worker.run_once()
    assert fake_twilio.requests == []
    assert db.one(OutboxItem).status is OutboxStatus.SENDING


async def test_a_send_not_started_before_its_lease_nears_its_end_is_handed_back(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = await first_nudge(db, sessions, settings, clock)
    second = await first_nudge(db, sessions, settings, clock)
    monkeypatch.setattr("app.outbox.sender.IN_FLIGHT", 1)
    sends = worker.sender.transport.send

    def slow_twilio(item: Outgoing) -> str | None:
        # Another worker may take over any claim once the lease is out: a send that starts
        # this late could still be waiting for its answer then.
        clock.advance(SENDING_LEASE - timedelta(seconds=20))
        return sends(item)

    worker.sender.transport.send = slow_twilio
    await worker.run_once()
    assert len(fake_twilio.messages) == 1
    assert sorted((i.status.value, i.attempts) for i in db.all(OutboxItem)) == [
        ("pending", 0),
        ("sent", 1),
    ]
    worker.sender.transport.send = sends
    await worker.run_once()
    assert len(sms_to(fake_twilio, first.mobile)) == len(sms_to(fake_twilio, second.mobile)) == 1
