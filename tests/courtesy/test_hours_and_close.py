"""Caller hours (CALLER_TEXT_HOURS in the recruiter's zone): outside them a text-back waits,
and is cancelled if the obligation closed meanwhile or its promise passed; checked at claim
too. And the optional close text, on DONE or an ops close with notify_caller."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.clock import ManualClock
from app.models import CallerText, Obligation, ObligationStatus, OutboxItem, OutboxStatus, Recruiter
from app.outbox.worker import Worker
from app.simulator.recruiter import RecruiterPhone
from app.simulator.twilio import TwilioSimulator
from tests.courtesy.conftest import CALLER, OFFICE, caller_items, missed, only_obligation, texts_to
from tests.support.databases import TestDatabase
from tests.support.factories import make_recruiter
from tests.support.fake_twilio import FakeTwilio

MONDAY_9PM_LONDON = datetime(2026, 1, 5, 21, 0, tzinfo=UTC)  # London is UTC in January
TUESDAY_8AM = datetime(2026, 1, 6, 8, 0, tzinfo=UTC)


@pytest.fixture
def office(db: TestDatabase) -> Recruiter:
    return make_recruiter(db, name="Alice", timezone="Europe/London", working_hours=OFFICE)


async def test_a_text_outside_caller_hours_waits_for_them(
    twilio: TwilioSimulator,
    office: Recruiter,
    worker: Worker,
    db: TestDatabase,
    fake_twilio: FakeTwilio,
    clock: ManualClock,
) -> None:
    clock.set(MONDAY_9PM_LONDON)
    await missed(twilio, office)
    await worker.run_once()
    assert texts_to(fake_twilio, CALLER) == []
    assert caller_items(db)[0].next_attempt_at == TUESDAY_8AM

    clock.set(TUESDAY_8AM)
    await worker.run_once()

    # 4 h of working time from 09:00 Tuesday; read at 08:00 Tuesday, it is "today".
    assert "call you back by 13:00 today." in texts_to(fake_twilio, CALLER)[0]
    assert only_obligation(db).caller_text is CallerText.SENT


async def test_a_waiting_text_is_cancelled_when_the_obligation_closes_meanwhile(
    twilio: TwilioSimulator,
    office: Recruiter,
    worker: Worker,
    db: TestDatabase,
    fake_twilio: FakeTwilio,
    clock: ManualClock,
    api: httpx.AsyncClient,
) -> None:
    clock.set(MONDAY_9PM_LONDON)
    await missed(twilio, office)
    await worker.run_once()
    closed = await api.post(f"/api/v1/obligations/{only_obligation(db).id}/close", json={})
    assert closed.status_code == 200

    clock.set(TUESDAY_8AM)
    await worker.run_once()

    assert texts_to(fake_twilio, CALLER) == []
    assert caller_items(db)[0].status is OutboxStatus.CANCELLED
    assert only_obligation(db).caller_text is CallerText.CANCELLED


async def test_caller_hours_are_checked_again_at_claim(
    twilio: TwilioSimulator,
    office: Recruiter,
    worker: Worker,
    db: TestDatabase,
    fake_twilio: FakeTwilio,
    clock: ManualClock,
) -> None:
    clock.set(MONDAY_9PM_LONDON - timedelta(minutes=1))
    await missed(twilio, office)
    fake_twilio.fail_next(status=503)
    await worker.run_once()  # queued in hours at 19:59... then Twilio fails
    clock.set(MONDAY_9PM_LONDON)
    await worker.run_once()  # the retry falls outside caller hours: deferred

    item: OutboxItem = caller_items(db)[0]
    assert (item.status, item.next_attempt_at) == (OutboxStatus.PENDING, TUESDAY_8AM)
    assert texts_to(fake_twilio, CALLER) == []


async def test_no_text_when_it_could_only_arrive_after_the_promise(
    twilio: TwilioSimulator,
    worker: Worker,
    db: TestDatabase,
    fake_twilio: FakeTwilio,
    clock: ManualClock,
) -> None:
    always = make_recruiter(db, timezone="Europe/London")  # no working hours: 4 h flat
    clock.set(MONDAY_9PM_LONDON)
    await missed(twilio, always)
    await worker.run_once()

    obligation = only_obligation(db)
    assert obligation.promised_by == MONDAY_9PM_LONDON + timedelta(hours=4)
    assert obligation.caller_text is CallerText.TOO_LATE
    assert caller_items(db) == []


class TestCloseText:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {
            "default_region": "GB",
            "api_tokens": "courtesy-tests-token-long-enough",
            "caller_text": True,
            "caller_close_text": True,
        }

    async def test_done_tells_the_caller_their_message_was_picked_up(
        self,
        phone: RecruiterPhone,
        twilio: TwilioSimulator,
        recruiter: Recruiter,
        worker: Worker,
        fake_twilio: FakeTwilio,
    ) -> None:
        await missed(twilio, recruiter)
        await worker.run_once()
        await phone.text(sender=recruiter.mobile, line=recruiter.line, body="DONE")
        await worker.run_once()

        assert texts_to(fake_twilio, CALLER)[1:] == ["Alice has picked up your message. Thank you."]

    async def test_an_ops_close_may_decline_it(
        self,
        twilio: TwilioSimulator,
        recruiter: Recruiter,
        worker: Worker,
        db: TestDatabase,
        fake_twilio: FakeTwilio,
        api: httpx.AsyncClient,
    ) -> None:
        await missed(twilio, recruiter)
        await worker.run_once()
        obligation_id = only_obligation(db).id
        await api.post(f"/api/v1/obligations/{obligation_id}/close", json={"notify_caller": False})
        await worker.run_once()

        assert len(texts_to(fake_twilio, CALLER)) == 1


async def test_by_default_no_close_text_but_ops_may_ask_for_it(
    phone: RecruiterPhone,
    twilio: TwilioSimulator,
    recruiter: Recruiter,
    worker: Worker,
    db: TestDatabase,
    fake_twilio: FakeTwilio,
    api: httpx.AsyncClient,
    clock: ManualClock,
) -> None:
    await missed(twilio, recruiter)
    await worker.run_once()
    await phone.text(sender=recruiter.mobile, line=recruiter.line, body="DONE")
    await worker.run_once()
    assert len(texts_to(fake_twilio, CALLER)) == 1

    clock.advance(timedelta(hours=1))
    await missed(twilio, recruiter)
    await worker.run_once()
    open_id = db.one(Obligation, Obligation.status == ObligationStatus.OPEN).id
    closed = await api.post(f"/api/v1/obligations/{open_id}/close", json={"notify_caller": True})
    assert closed.status_code == 200 and closed.json()["caller_text"] == "sent"
    await worker.run_once()

    assert texts_to(fake_twilio, CALLER)[-1] == "Alice has picked up your message. Thank you."
    assert len(texts_to(fake_twilio, CALLER)) == 3
