"""Opt-outs per line (STOP and its kin from a caller; START clears), permanent refusals of a
text-back (21610, 21614 at send; 30006 in the delivery report), and a caller's replies."""

import httpx
import pytest

from app.models import CallerOptOut, CallerText, ObligationEvent, OutboxStatus, Recruiter
from app.outbox.worker import Worker
from app.simulator.recruiter import RecruiterPhone
from app.simulator.twilio import TwilioSimulator
from tests.courtesy.conftest import CALLER, caller_items, missed, only_obligation, texts_to
from tests.support.databases import TestDatabase
from tests.support.factories import make_recruiter
from tests.support.fake_twilio import FakeTwilio
from tests.support.signer import TwilioSigner, post_webhook


@pytest.mark.parametrize("word", ["STOP", "unsubscribe", "Quit.", "STOPALL"])
async def test_a_caller_who_texted_stop_to_the_line_gets_no_text(
    word: str,
    phone: RecruiterPhone,
    twilio: TwilioSimulator,
    recruiter: Recruiter,
    worker: Worker,
    db: TestDatabase,
    fake_twilio: FakeTwilio,
) -> None:
    await phone.text(sender=CALLER, line=recruiter.line, body=word)
    await missed(twilio, recruiter)
    await worker.run_once()

    assert only_obligation(db).caller_text is CallerText.OPTED_OUT
    assert texts_to(fake_twilio, CALLER) == []
    assert db.one(CallerOptOut).reason == "opted_out"


async def test_the_opt_out_is_per_line(
    phone: RecruiterPhone,
    twilio: TwilioSimulator,
    recruiter: Recruiter,
    worker: Worker,
    db: TestDatabase,
    fake_twilio: FakeTwilio,
) -> None:
    other = make_recruiter(db)
    await phone.text(sender=CALLER, line=recruiter.line, body="STOP")
    await missed(twilio, other)
    await worker.run_once()

    assert len(texts_to(fake_twilio, CALLER)) == 1


async def test_start_clears_the_opt_out(
    phone: RecruiterPhone,
    twilio: TwilioSimulator,
    recruiter: Recruiter,
    worker: Worker,
    db: TestDatabase,
    fake_twilio: FakeTwilio,
) -> None:
    await phone.text(sender=CALLER, line=recruiter.line, body="STOP")
    await phone.text(sender=CALLER, line=recruiter.line, body="start")
    await missed(twilio, recruiter)
    await worker.run_once()

    assert db.count(CallerOptOut) == 0
    assert len(texts_to(fake_twilio, CALLER)) == 1


async def test_a_recruiter_texting_stop_opts_no_caller_out(
    phone: RecruiterPhone, recruiter: Recruiter, db: TestDatabase
) -> None:
    await phone.text(sender=recruiter.mobile, line=recruiter.line, body="STOP")

    assert db.count(CallerOptOut) == 0


async def test_error_21610_on_the_text_marks_the_caller_opted_out(
    twilio: TwilioSimulator,
    recruiter: Recruiter,
    worker: Worker,
    db: TestDatabase,
    fake_twilio: FakeTwilio,
) -> None:
    fake_twilio.refuse(CALLER, 21610)
    await missed(twilio, recruiter)
    await worker.run_once()

    assert only_obligation(db).caller_text is CallerText.OPTED_OUT
    assert db.one(CallerOptOut).reason == "opted_out"
    assert recruiter_unflagged(db, recruiter)


async def test_a_landline_21614_is_marked_and_not_retried(
    twilio: TwilioSimulator,
    recruiter: Recruiter,
    worker: Worker,
    db: TestDatabase,
    fake_twilio: FakeTwilio,
) -> None:
    fake_twilio.refuse(CALLER, 21614)
    await missed(twilio, recruiter)
    for _ in range(3):
        await worker.run_once()

    item = caller_items(db)[0]
    assert (item.status, item.attempts, item.error_code) == (OutboxStatus.FAILED, 1, 21614)
    assert only_obligation(db).caller_text is CallerText.LANDLINE
    assert db.one(CallerOptOut).reason == "landline"
    assert recruiter_unflagged(db, recruiter)
    assert sum(1 for r in fake_twilio.requests if r.method == "POST") == 1


async def test_a_landline_30006_in_the_delivery_report_is_marked(
    twilio: TwilioSimulator,
    recruiter: Recruiter,
    worker: Worker,
    db: TestDatabase,
    client: httpx.AsyncClient,
    signer: TwilioSigner,
) -> None:
    await missed(twilio, recruiter)
    await worker.run_once()
    item = caller_items(db)[0]
    report = {
        "MessageSid": item.twilio_sid or "",
        "MessageStatus": "undelivered",
        "ErrorCode": "30006",
        "To": CALLER,
        "From": recruiter.line,
        "AccountSid": "AC" + "f" * 32,
    }
    response = await post_webhook(client, signer, f"/twilio/sms/status?outbox={item.id}", report)

    assert response.status_code == 204
    assert only_obligation(db).caller_text is CallerText.LANDLINE
    assert db.one(CallerOptOut).reason == "landline"


async def test_a_callers_reply_goes_on_the_timeline_and_is_relayed(
    phone: RecruiterPhone,
    twilio: TwilioSimulator,
    recruiter: Recruiter,
    worker: Worker,
    db: TestDatabase,
    fake_twilio: FakeTwilio,
) -> None:
    await missed(twilio, recruiter)
    await worker.run_once()
    await phone.text(sender=CALLER, line=recruiter.line, body="CALL ME AT 3PM")
    await worker.run_once()

    event = db.one(ObligationEvent, ObligationEvent.kind == "caller_sms")
    assert (event.actor, event.detail["body"]) == ("caller", "CALL ME AT 3PM")
    assert event.obligation_id == only_obligation(db).id
    assert texts_to(fake_twilio, recruiter.mobile) == ["SMS from +44 7700 900123: CALL ME AT 3PM"]
    assert only_obligation(db).status.value == "open"


def recruiter_unflagged(db: TestDatabase, recruiter: Recruiter) -> bool:
    """A caller's refusal says nothing about the recruiter's own mobile."""
    current: Recruiter = db.one(Recruiter, Recruiter.id == recruiter.id)
    return current.sms_error_code is None and current.sms_blocked_at is None
