"""Callbacks reported to /twilio/voice/status: an answered one closes, an unanswered one is an
attempt; duplicates, concurrency and GB numbers written every way change nothing of that."""

import asyncio
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from app.clock import ManualClock
from app.models import Call, CloseReason, Obligation, ObligationStatus, Recruiter
from app.outbox.worker import Worker
from app.simulator.exchange import CallScript, new_sid
from app.simulator.twilio import TwilioSimulator
from app.twilio import twiml
from tests.conftest import Webhook
from tests.support.databases import TestDatabase
from tests.support.factories import T0, make_recruiter
from tests.support.fake_twilio import FakeTwilio
from tests.support.loop import CALLER, fresh, timeline

MINUTE = timedelta(minutes=1)


def reported(
    recruiter: Recruiter,
    status: str,
    *,
    to: str = CALLER,
    sid: str | None = None,
    sequence: int = 3,
    **extra: str,
) -> dict[str, str]:
    """The status callback of a call from the recruiter's line that another app placed."""
    params = {
        "CallSid": sid or new_sid("CA"),
        "From": recruiter.line,
        "To": to,
        "Direction": "outbound-api",
        "CallStatus": status,
        "SequenceNumber": str(sequence),
    }
    if status == "completed":
        params["CallDuration"] = "95"
    return params | extra


def nudges_to(fake: FakeTwilio, recruiter: Recruiter) -> list[str]:
    return [m["body"] for m in fake.messages if m["to"] == recruiter.mobile]


async def test_an_answered_callback_from_the_line_closes_the_obligation(
    webhook: Webhook, recruiter: Recruiter, owed: Obligation, db: TestDatabase
) -> None:
    params = reported(recruiter, "completed")
    response = await webhook(twiml.STATUS, params)

    assert response.status_code == 204
    closed = fresh(db, owed)
    assert (closed.status, closed.close_reason) == (ObligationStatus.CLOSED, CloseReason.CALLBACK)
    assert timeline(db, owed)[-1] == ("closed", f"recruiter:{recruiter.id}")
    call = db.one(Call, Call.call_sid == params["CallSid"])
    assert (call.recruiter_id, call.obligation_id) == (recruiter.id, owed.id)


async def test_a_callback_is_returned_when_it_connected_not_when_it_was_reported(
    webhook: Webhook, recruiter: Recruiter, owed: Obligation, db: TestDatabase, clock: ManualClock
) -> None:
    clock.advance(timedelta(minutes=10))
    await webhook(twiml.STATUS, reported(recruiter, "completed"))  # talked for 95 s

    closed = fresh(db, owed)
    assert closed.closed_at == clock.now() - timedelta(seconds=95)
    assert closed.seconds_to_close == 600 - 95


async def test_a_callback_never_closes_before_the_obligation_opened(
    webhook: Webhook, recruiter: Recruiter, owed: Obligation, db: TestDatabase
) -> None:
    await webhook(twiml.STATUS, reported(recruiter, "completed"))  # reported at once, 95 s long

    closed = fresh(db, owed)
    assert (closed.closed_at, closed.seconds_to_close) == (owed.opened_at, 0)


async def test_a_callback_stops_the_nudges(
    webhook: Webhook,
    recruiter: Recruiter,
    owed: Obligation,
    db: TestDatabase,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    assert owed.next_reminder_at is not None
    await webhook(twiml.STATUS, reported(recruiter, "completed"))
    clock.advance(timedelta(days=2))
    await worker.run_once()

    assert fresh(db, owed).next_reminder_at is None
    assert nudges_to(fake_twilio, recruiter) == []


@pytest.mark.parametrize("outcome", ["busy", "no-answer", "failed", "canceled"])
async def test_an_unanswered_callback_is_an_attempt_that_moves_the_next_nudge(
    outcome: str,
    webhook: Webhook,
    recruiter: Recruiter,
    owed: Obligation,
    db: TestDatabase,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    assert owed.next_reminder_at == owed.opened_at + 2 * MINUTE
    clock.advance(MINUTE)
    await webhook(twiml.STATUS, reported(recruiter, outcome))

    still = fresh(db, owed)
    assert (still.status, still.callback_attempts) == (ObligationStatus.OPEN, 1)
    assert still.next_reminder_at == clock.now() + 2 * MINUTE  # the step does not advance
    assert timeline(db, owed)[-1] == ("callback_attempt", f"recruiter:{recruiter.id}")
    clock.advance(timedelta(seconds=90))
    await worker.run_once()
    assert nudges_to(fake_twilio, recruiter) == []  # the nudge first due now waits
    clock.advance(MINUTE)
    await worker.run_once()
    assert len(nudges_to(fake_twilio, recruiter)) == 1


async def test_a_status_callback_delivered_twice_records_one_attempt(
    webhook: Webhook, recruiter: Recruiter, owed: Obligation, db: TestDatabase
) -> None:
    params = reported(recruiter, "no-answer")
    for _ in range(2):
        assert (await webhook(twiml.STATUS, params)).status_code == 204

    assert fresh(db, owed).callback_attempts == 1
    assert [kind for kind, _ in timeline(db, owed)].count("callback_attempt") == 1


@pytest.mark.parametrize(
    ("outcome", "acted"), [("completed", "closed"), ("no-answer", "callback_attempt")]
)
async def test_the_same_report_twice_at_once_acts_once(
    outcome: str,
    acted: str,
    webhook: Webhook,
    recruiter: Recruiter,
    owed: Obligation,
    db: TestDatabase,
) -> None:
    params = reported(recruiter, outcome)
    responses = await asyncio.gather(*[webhook(twiml.STATUS, params) for _ in range(3)])

    assert [r.status_code for r in responses] == [204] * 3
    kinds = [kind for kind, _ in timeline(db, owed)]
    assert kinds.count("closed") + kinds.count("callback_attempt") == 1
    assert kinds.count(acted) == 1


async def test_progress_before_the_end_changes_nothing(
    webhook: Webhook, recruiter: Recruiter, owed: Obligation, db: TestDatabase
) -> None:
    sid = new_sid("CA")
    for status, sequence in (("initiated", 0), ("ringing", 1), ("in-progress", 2)):
        await webhook(twiml.STATUS, reported(recruiter, status, sid=sid, sequence=sequence))

    assert fresh(db, owed).status is ObligationStatus.OPEN
    assert db.one(Call, Call.call_sid == sid).status == "in-progress"


@pytest.mark.parametrize("written", ["07700 900123", "447700900123", "+447700900123"])
async def test_a_gb_number_written_any_way_is_the_same_caller(
    written: str, webhook: Webhook, recruiter: Recruiter, owed: Obligation, db: TestDatabase
) -> None:
    assert owed.caller == CALLER
    await webhook(twiml.STATUS, reported(recruiter, "completed", to=written))

    assert fresh(db, owed).close_reason is CloseReason.CALLBACK


async def test_a_call_to_someone_not_owed_a_call_changes_nothing(
    webhook: Webhook, recruiter: Recruiter, owed: Obligation, db: TestDatabase
) -> None:
    params = reported(recruiter, "completed", to="+447700900999")
    await webhook(twiml.STATUS, params)

    assert fresh(db, owed).status is ObligationStatus.OPEN
    assert db.one(Call, Call.call_sid == params["CallSid"]).obligation_id is None


async def test_another_recruiters_call_to_the_caller_does_not_close_this_obligation(
    webhook: Webhook, owed: Obligation, db: TestDatabase
) -> None:
    colleague = make_recruiter(db)
    await webhook(twiml.STATUS, reported(colleague, "completed"))

    assert fresh(db, owed).status is ObligationStatus.OPEN


async def test_a_leg_of_a_call_started_for_the_recruiter_counts_whatever_its_caller_id(
    webhook: Webhook, recruiter: Recruiter, owed: Obligation, db: TestDatabase
) -> None:
    parent = reported(recruiter, "in-progress", to=recruiter.mobile, sequence=2)
    await webhook(twiml.STATUS, parent)
    leg = reported(
        recruiter,
        "completed",
        From="+15005550001",  # not a line: caller ID came from elsewhere
        Direction="outbound-dial",
        ParentCallSid=parent["CallSid"],
    )
    await webhook(twiml.STATUS, leg)

    assert fresh(db, owed).close_reason is CloseReason.CALLBACK


async def test_the_call_that_rings_the_recruiters_own_mobile_is_no_callback(
    webhook: Webhook, recruiter: Recruiter, db: TestDatabase
) -> None:
    # Their own mobile once called their line (a test call, say) and left an obligation.
    db.add(
        Obligation(
            recruiter_id=recruiter.id,
            caller=recruiter.mobile,
            status=ObligationStatus.OPEN,
            opened_at=T0,
            last_missed_at=T0,
            missed_calls=1,
            reminders_sent=0,
            callback_attempts=0,
            updated_at=T0,
        )
    )
    await webhook(twiml.STATUS, reported(recruiter, "completed", to=recruiter.mobile))

    assert db.one(Obligation).status is ObligationStatus.OPEN


async def test_a_softphone_calls_own_status_is_never_a_miss(
    webhook: Webhook, recruiter: Recruiter, db: TestDatabase
) -> None:
    params = {
        "CallSid": new_sid("CA"),
        "From": "client:alice",
        "To": CALLER,
        "Direction": "inbound",
        "CallStatus": "canceled",
    }
    await webhook(twiml.OUTBOUND, params | {"CallStatus": "ringing"})
    await webhook(twiml.STATUS, params)

    assert db.count(Obligation) == 0
    assert db.one(Call).recruiter_id == recruiter.id


async def test_a_late_repeat_of_an_earlier_calls_report_does_not_close_a_newer_obligation(
    webhook: Webhook,
    twilio: TwilioSimulator,
    recruiter: Recruiter,
    db: TestDatabase,
    clock: ManualClock,
) -> None:
    earlier = reported(recruiter, "completed")  # a call to CALLER, owed nothing yet
    await webhook(twiml.STATUS, earlier)
    clock.advance(timedelta(hours=1))
    await twilio.call(CallScript(caller=CALLER, line=recruiter.line))  # now CALLER is missed

    await webhook(twiml.STATUS, earlier)  # Twilio delivers the old report again

    assert db.one(Obligation).status is ObligationStatus.OPEN


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_callbacks_and_attempts_are_counted_in_the_metrics(
    webhook: Webhook, twilio: TwilioSimulator, recruiter: Recruiter, db: TestDatabase
) -> None:
    status = "callpledge_webhooks_total"
    before = [
        sample(status, kind="voice_status", outcome="attempt"),
        sample(status, kind="voice_status", outcome="callback"),
        sample("callpledge_obligations_closed_total", reason="callback"),
    ]
    await twilio.call(CallScript(caller=CALLER, line=recruiter.line))
    await webhook(twiml.STATUS, reported(recruiter, "busy"))
    await webhook(twiml.STATUS, reported(recruiter, "completed"))

    after = [
        sample(status, kind="voice_status", outcome="attempt"),
        sample(status, kind="voice_status", outcome="callback"),
        sample("callpledge_obligations_closed_total", reason="callback"),
    ]
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 1]
