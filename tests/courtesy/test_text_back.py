"""The text-back: one SMS to the caller per obligation, from the line, through the outbox;
never for withheld callers; and the promise it states."""

from datetime import timedelta

from app.clock import ManualClock
from app.models import CallerText, Obligation, ObligationStatus, OutboxStatus, Recruiter
from app.outbox.worker import Worker
from app.simulator.exchange import CallScript, RecruiterDoes
from app.simulator.twilio import TwilioSimulator
from tests.courtesy.conftest import (
    CALLER,
    caller_items,
    kinds,
    missed,
    only_obligation,
    texts_to,
)
from tests.support.databases import TestDatabase
from tests.support.factories import T0, make_recruiter
from tests.support.fake_twilio import FakeTwilio


async def test_a_missed_caller_gets_one_text_from_the_line_with_the_promise(
    twilio: TwilioSimulator,
    recruiter: Recruiter,
    worker: Worker,
    db: TestDatabase,
    fake_twilio: FakeTwilio,
) -> None:
    await missed(twilio, recruiter)
    assert only_obligation(db).caller_text is CallerText.PENDING

    await worker.run_once()

    assert texts_to(fake_twilio, CALLER) == [
        "Hi there, this is Alice at Acme Talent. Sorry I missed your call - I'll call you "
        "back by 14:00 today. Reply STOP to opt out."
    ]
    assert [m["from"] for m in fake_twilio.messages if m["to"] == CALLER] == [recruiter.line]
    obligation = only_obligation(db)
    assert obligation.promised_by == T0 + timedelta(hours=4)
    assert obligation.caller_text is CallerText.SENT
    assert kinds(db, obligation) == ["opened", "caller_text"]


async def test_a_repeat_call_while_open_sends_nothing_more(
    twilio: TwilioSimulator,
    recruiter: Recruiter,
    worker: Worker,
    db: TestDatabase,
    fake_twilio: FakeTwilio,
    clock: ManualClock,
) -> None:
    await missed(twilio, recruiter)
    await worker.run_once()
    clock.advance(timedelta(minutes=20))
    await missed(twilio, recruiter)
    await worker.run_once()
    await worker.run_once()

    assert len(texts_to(fake_twilio, CALLER)) == 1
    assert only_obligation(db).missed_calls == 2
    assert len(caller_items(db)) == 1


async def test_a_new_obligation_after_a_close_gets_its_own_text(
    twilio: TwilioSimulator,
    recruiter: Recruiter,
    worker: Worker,
    db: TestDatabase,
    fake_twilio: FakeTwilio,
    clock: ManualClock,
) -> None:
    await missed(twilio, recruiter)
    await worker.run_once()
    clock.advance(timedelta(hours=1))
    await twilio.call(
        CallScript(caller=CALLER, line=recruiter.line, recruiter=RecruiterDoes.ACCEPTS)
    )
    clock.advance(timedelta(hours=1))
    await missed(twilio, recruiter)
    await worker.run_once()

    assert len(texts_to(fake_twilio, CALLER)) == 2
    assert db.count(Obligation, Obligation.status == ObligationStatus.OPEN) == 1


async def test_a_withheld_caller_gets_no_text(
    twilio: TwilioSimulator,
    recruiter: Recruiter,
    worker: Worker,
    db: TestDatabase,
    fake_twilio: FakeTwilio,
) -> None:
    await twilio.call(
        CallScript(caller="anonymous", line=recruiter.line, message="It's Sam, call me")
    )
    await worker.run_once()

    obligation = only_obligation(db)
    assert obligation.caller is None and obligation.caller_text is CallerText.WITHHELD
    assert [m["to"] for m in fake_twilio.messages] == []
    assert caller_items(db) == []


async def test_with_caller_text_off_for_the_recruiter_only_the_promise_is_made(
    twilio: TwilioSimulator, worker: Worker, db: TestDatabase, fake_twilio: FakeTwilio
) -> None:
    quiet = make_recruiter(db, caller_text=False)
    await missed(twilio, quiet)
    await worker.run_once()

    obligation = only_obligation(db)
    assert obligation.caller_text is CallerText.RECRUITER_OFF
    assert obligation.promised_by == T0 + timedelta(hours=4)
    assert texts_to(fake_twilio, CALLER) == []


async def test_the_recruiters_template_names_caller_recruiter_promise_and_team(
    twilio: TwilioSimulator, worker: Worker, db: TestDatabase, fake_twilio: FakeTwilio
) -> None:
    templated = make_recruiter(
        db,
        name="Bob Jones",
        caller_text_template="{caller_name}: {recruiter} ({team}) by {promise}",
    )
    await twilio.call(
        CallScript(caller=CALLER, line=templated.line, message=None, caller_name="Sam Lee")
    )
    await worker.run_once()

    assert texts_to(fake_twilio, CALLER) == ["Sam: Bob (Acme Talent) by 14:00 today"]


async def test_a_text_that_twilio_fails_for_a_while_is_retried_and_sent_once(
    twilio: TwilioSimulator,
    recruiter: Recruiter,
    worker: Worker,
    db: TestDatabase,
    fake_twilio: FakeTwilio,
    clock: ManualClock,
) -> None:
    await missed(twilio, recruiter)
    fake_twilio.fail_next(status=503)
    await worker.run_once()
    assert caller_items(db)[0].status is OutboxStatus.PENDING
    clock.advance(timedelta(seconds=5))
    await worker.run_once()

    assert len(texts_to(fake_twilio, CALLER)) == 1
    assert only_obligation(db).caller_text is CallerText.SENT
