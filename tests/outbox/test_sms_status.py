"""/twilio/sms/status: delivery reports land on their outbox item, in any order."""

from datetime import timedelta

import httpx
import pytest

from app.clock import ManualClock
from app.config import Settings
from app.models import Obligation, ObligationEvent, OutboxItem, OutboxStatus, Recruiter
from app.outbox.worker import Worker
from tests.conftest import Webhook
from tests.outbox.helpers import Sessions, first_nudge, report, sent_nudge
from tests.support.databases import TestDatabase

STATUS = "/twilio/sms/status"


@pytest.fixture
async def item(
    db: TestDatabase, sessions: Sessions, settings: Settings, clock: ManualClock, worker: Worker
) -> OutboxItem:
    """A nudge the worker sent."""
    await first_nudge(db, sessions, settings, clock)
    return await sent_nudge(db, worker)


async def test_delivered_is_recorded_and_a_late_sent_does_not_undo_it(
    item: OutboxItem, db: TestDatabase, webhook: Webhook
) -> None:
    url = f"{STATUS}?outbox={item.id}"
    assert (await webhook(url, report(item, "delivered"))).status_code == 204
    assert (await webhook(url, report(item, "sent"))).status_code == 204
    assert db.one(OutboxItem).status is OutboxStatus.DELIVERED


async def test_a_report_without_the_outbox_id_is_matched_by_its_message_sid(
    item: OutboxItem, db: TestDatabase, webhook: Webhook
) -> None:
    assert (await webhook(STATUS, report(item, "delivered"))).status_code == 204
    assert db.one(OutboxItem).status is OutboxStatus.DELIVERED


async def test_undelivered_for_a_passing_reason_is_recorded_without_flags(
    item: OutboxItem, db: TestDatabase, webhook: Webhook
) -> None:
    await webhook(f"{STATUS}?outbox={item.id}", report(item, "undelivered", ErrorCode="30003"))
    stored = db.one(OutboxItem)
    assert (stored.status, stored.error_code) == (OutboxStatus.UNDELIVERED, 30003)
    assert db.one(Recruiter).sms_blocked_at is None
    assert db.one(Obligation).sms_error_code is None


async def test_failed_with_a_permanent_code_raises_the_flags(
    item: OutboxItem, db: TestDatabase, clock: ManualClock, webhook: Webhook
) -> None:
    clock.advance(timedelta(seconds=30))
    await webhook(f"{STATUS}?outbox={item.id}", report(item, "failed", ErrorCode="21610"))
    assert db.one(OutboxItem).status is OutboxStatus.FAILED
    recruiter = db.one(Recruiter)
    assert (recruiter.sms_blocked_at, recruiter.sms_error_code) == (clock.now(), 21610)
    assert db.one(Obligation).sms_error_code == 21610
    [event] = db.all(ObligationEvent, ObligationEvent.kind == "nudge_failed")
    assert event.actor == "twilio"


async def test_a_report_that_arrives_before_the_worker_records_the_send_is_kept(
    item: OutboxItem, db: TestDatabase, worker: Worker, webhook: Webhook
) -> None:
    with db.session() as session:  # as it was while the worker waited for Twilio's answer
        row = session.get(OutboxItem, item.id)
        assert row is not None
        row.status, row.twilio_sid = OutboxStatus.SENDING, None
        session.commit()
    await webhook(f"{STATUS}?outbox={item.id}", report(item, "sent"))
    stored = db.one(OutboxItem)
    assert (stored.status, stored.twilio_sid) == (OutboxStatus.SENT, item.twilio_sid)


async def test_a_report_naming_another_message_changes_nothing(
    item: OutboxItem, db: TestDatabase, webhook: Webhook
) -> None:
    forged = report(item, "failed", MessageSid="SM" + "0" * 32, ErrorCode="21610")
    assert (await webhook(f"{STATUS}?outbox={item.id}", forged)).status_code == 204
    assert db.one(OutboxItem).status is OutboxStatus.SENT


async def test_an_unsigned_report_is_refused(
    item: OutboxItem, db: TestDatabase, client: httpx.AsyncClient
) -> None:
    response = await client.post(f"{STATUS}?outbox={item.id}", data=report(item, "failed"))
    assert response.status_code == 403
    assert db.one(OutboxItem).status is OutboxStatus.SENT
