"""The forward flow end to end, with Twilio played by the simulator following each TwiML answer."""

import threading
from datetime import timedelta
from typing import Any

import httpx
import pytest

from app.clock import ManualClock
from app.config import Settings
from app.main import create_app
from app.models import (
    Call,
    CloseReason,
    Obligation,
    ObligationEvent,
    ObligationStatus,
    Recruiter,
    Voicemail,
)
from app.simulator.exchange import CallRecord, CallScript, RecruiterDoes, Request, new_sid
from app.simulator.twilio import TwilioSimulator
from app.twilio import twiml
from tests.support.databases import TestDatabase
from tests.support.factories import make_recruiter
from tests.support.loop import CALLER, simulator

MESSAGE = "Hi, this is Sam Lee about the warehouse role, please call me back."


def kinds(db: TestDatabase, obligation: Obligation) -> list[str]:
    events = db.all(
        ObligationEvent,
        ObligationEvent.obligation_id == obligation.id,
        order_by=ObligationEvent.id,
    )
    return [event.kind for event in events]


def all_accepted(record: CallRecord) -> bool:
    return all(exchange.status_code in (200, 204) for exchange in record.exchanges)


async def test_a_missed_call_with_a_voicemail_opens_an_obligation_holding_it(
    twilio: TwilioSimulator, recruiter: Recruiter, db: TestDatabase
) -> None:
    record = await twilio.call(CallScript(caller=CALLER, line=recruiter.line, message=MESSAGE))

    assert all_accepted(record) and not record.bridged
    assert record.caller_heard == [twiml.GREETING]
    obligation = db.one(Obligation)
    assert (obligation.recruiter_id, obligation.caller, obligation.missed_calls) == (
        recruiter.id,
        CALLER,
        1,
    )
    assert obligation.status is ObligationStatus.OPEN
    voicemail = db.one(Voicemail)
    assert voicemail.obligation_id == obligation.id
    assert voicemail.recording_url and voicemail.recording_sid in voicemail.recording_url
    assert (voicemail.duration_seconds, voicemail.transcript) == (15, MESSAGE)
    assert kinds(db, obligation) == ["opened", "voicemail", "transcript"]
    call = db.one(Call)
    assert (call.status, call.duration_seconds, call.obligation_id) == (
        "completed",
        31,
        obligation.id,
    )
    assert call.missed_at is not None


async def test_a_missed_call_without_a_voicemail_still_opens_an_obligation(
    twilio: TwilioSimulator, recruiter: Recruiter, db: TestDatabase
) -> None:
    record = await twilio.call(CallScript(caller=CALLER, line=recruiter.line, message=None))

    assert all_accepted(record)
    obligation = db.one(Obligation)
    assert obligation.missed_calls == 1 and obligation.status is ObligationStatus.OPEN
    assert db.count(Voicemail) == 0
    assert kinds(db, obligation) == ["opened"]


async def test_an_answered_call_opens_nothing(
    twilio: TwilioSimulator, recruiter: Recruiter, db: TestDatabase
) -> None:
    record = await twilio.call(
        CallScript(caller=CALLER, line=recruiter.line, recruiter=RecruiterDoes.ACCEPTS)
    )

    assert record.bridged and all_accepted(record)
    assert record.recruiter_heard == [twiml.SCREEN_PROMPT]
    assert record.caller_heard == []
    assert db.count(Obligation) == 0
    assert db.one(Call).missed_at is None


async def test_a_caller_who_gets_through_closes_their_open_obligation_as_answered(
    twilio: TwilioSimulator, recruiter: Recruiter, db: TestDatabase, clock: ManualClock
) -> None:
    await twilio.call(CallScript(caller=CALLER, line=recruiter.line, message=MESSAGE))
    clock.advance(timedelta(hours=1))
    await twilio.call(
        CallScript(caller=CALLER, line=recruiter.line, recruiter=RecruiterDoes.ACCEPTS)
    )

    obligation = db.one(Obligation)
    assert obligation.status is ObligationStatus.CLOSED
    assert obligation.close_reason is CloseReason.ANSWERED
    assert kinds(db, obligation)[-1] == "closed"
    # The Dial action comes as the call ends (the simulator talks 42 s): closed as it began.
    assert obligation.closed_at == clock.now() - timedelta(seconds=42)


async def test_a_dial_action_for_a_call_never_logged_still_names_the_recruiter(
    twilio: TwilioSimulator, recruiter: Recruiter, db: TestDatabase
) -> None:
    params = {
        "CallSid": new_sid("CA"),
        "From": CALLER,
        "To": recruiter.line,
        "Direction": "inbound",
        "CallStatus": "in-progress",
        "DialCallStatus": "no-answer",
        "DialBridged": "false",
    }
    url = twilio.url(f"{twiml.DIAL_RESULT}?recruiter={recruiter.id}")
    assert (await twilio.send(Request(url, params))).status_code == 200

    call = db.one(Call)
    assert (call.recruiter_id, call.obligation_id) == (recruiter.id, db.one(Obligation).id)


@pytest.mark.parametrize("does", [RecruiterDoes.DECLINES, RecruiterDoes.CARRIER_VOICEMAIL], ids=str)
async def test_a_call_not_accepted_on_the_screen_is_missed(
    does: RecruiterDoes, twilio: TwilioSimulator, recruiter: Recruiter, db: TestDatabase
) -> None:
    record = await twilio.call(
        CallScript(caller=CALLER, line=recruiter.line, recruiter=does, message=MESSAGE)
    )

    assert not record.bridged and all_accepted(record)
    assert record.recruiter_heard == [twiml.SCREEN_PROMPT]
    assert record.caller_heard == [twiml.GREETING]
    obligation = db.one(Obligation)
    assert obligation.missed_calls == 1
    assert db.one(Voicemail).obligation_id == obligation.id


@pytest.mark.parametrize("does", [RecruiterDoes.NO_ANSWER, RecruiterDoes.BUSY], ids=str)
async def test_a_call_the_mobile_never_takes_is_missed(
    does: RecruiterDoes, twilio: TwilioSimulator, recruiter: Recruiter, db: TestDatabase
) -> None:
    record = await twilio.call(CallScript(caller=CALLER, line=recruiter.line, recruiter=does))

    assert record.recruiter_heard == [] and not record.bridged
    assert db.one(Obligation).missed_calls == 1


async def test_the_callers_name_from_twilio_is_kept_on_the_obligation(
    twilio: TwilioSimulator, recruiter: Recruiter, db: TestDatabase
) -> None:
    await twilio.call(CallScript(caller=CALLER, line=recruiter.line, caller_name="LEE SAM"))

    assert db.one(Obligation).caller_name == "LEE SAM"
    assert db.one(Call).caller_name == "LEE SAM"


async def test_repeat_calls_raise_the_count_of_one_obligation(
    twilio: TwilioSimulator, recruiter: Recruiter, db: TestDatabase
) -> None:
    for _ in range(3):
        await twilio.call(CallScript(caller=CALLER, line=recruiter.line, message=MESSAGE))

    obligation = db.one(Obligation)
    assert obligation.missed_calls == 3
    assert db.count(Voicemail, Voicemail.obligation_id == obligation.id) == 3


@pytest.mark.parametrize("withheld", ["anonymous", "+266696687", ""])
async def test_a_withheld_caller_without_a_voicemail_is_only_logged(
    withheld: str, twilio: TwilioSimulator, recruiter: Recruiter, db: TestDatabase
) -> None:
    record = await twilio.call(CallScript(caller=withheld, line=recruiter.line))

    assert all_accepted(record) and record.caller_heard == [twiml.GREETING]
    assert db.count(Obligation) == 0
    call = db.one(Call)
    assert call.missed_at is not None and call.recruiter_id == recruiter.id


async def test_a_withheld_callers_voicemail_opens_a_callerless_obligation_of_its_own(
    twilio: TwilioSimulator, recruiter: Recruiter, db: TestDatabase
) -> None:
    for _ in range(2):
        await twilio.call(CallScript(caller="anonymous", line=recruiter.line, message=MESSAGE))

    obligations = db.all(Obligation)
    assert [(o.caller, o.missed_calls, o.status) for o in obligations] == [
        (None, 1, ObligationStatus.OPEN),
        (None, 1, ObligationStatus.OPEN),
    ]
    assert kinds(db, obligations[0]) == ["opened", "voicemail", "transcript"]
    assert [v.obligation_id for v in db.all(Voicemail)] == [o.id for o in obligations]


async def test_a_call_to_an_unknown_line_hears_it_is_out_of_service_and_is_logged(
    twilio: TwilioSimulator, db: TestDatabase
) -> None:
    record = await twilio.call(CallScript(caller=CALLER, line="+15005550999", message=MESSAGE))

    assert record.caller_heard == [twiml.OUT_OF_SERVICE]
    assert [httpx.URL(e.request.url).path for e in record.exchanges] == [
        twiml.INCOMING,
        twiml.STATUS,
    ]
    call = db.one(Call)
    assert (call.recruiter_id, call.status, call.missed_at) == (None, "completed", None)
    assert db.count(Obligation) == 0


async def test_a_deactivated_recruiters_line_is_out_of_service(
    twilio: TwilioSimulator, db: TestDatabase
) -> None:
    gone = make_recruiter(db, active=False)
    record = await twilio.call(CallScript(caller=CALLER, line=gone.line))

    assert record.caller_heard == [twiml.OUT_OF_SERVICE]
    assert db.count(Obligation) == 0 and db.one(Call).recruiter_id is None


class TestObserveMode:
    """Lines handled elsewhere only report status; an unanswered call or leg is a miss."""

    async def test_an_unanswered_leg_to_the_mobile_is_a_miss_of_the_parent_call(
        self, twilio: TwilioSimulator, recruiter: Recruiter, db: TestDatabase
    ) -> None:
        leg, call = twilio.observed_callbacks(
            caller=CALLER, line=recruiter.line, mobile=recruiter.mobile
        )
        for request in (leg, call):
            assert (await twilio.send(request)).status_code == 204

        obligation = db.one(Obligation)
        assert (obligation.caller, obligation.missed_calls) == (CALLER, 1)
        parent = db.one(Call, Call.call_sid == call.params["CallSid"])
        assert parent.obligation_id == obligation.id and parent.status == "completed"

    async def test_the_leg_may_show_the_line_and_report_before_the_call(
        self, twilio: TwilioSimulator, recruiter: Recruiter, db: TestDatabase
    ) -> None:
        leg, call = twilio.observed_callbacks(
            caller=CALLER,
            line=recruiter.line,
            mobile=recruiter.mobile,
            leg_caller_id=recruiter.line,
        )
        await twilio.send(leg)
        assert db.count(Obligation) == 0  # the caller is not known yet
        await twilio.send(call)

        assert (db.one(Obligation).caller, db.one(Obligation).missed_calls) == (CALLER, 1)

    @pytest.mark.parametrize("status", ["no-answer", "busy", "failed", "canceled"])
    async def test_an_inbound_call_ending_unanswered_is_a_miss(
        self, status: str, twilio: TwilioSimulator, recruiter: Recruiter, db: TestDatabase
    ) -> None:
        _, call = twilio.observed_callbacks(
            caller=CALLER, line=recruiter.line, mobile=recruiter.mobile, call_status=status
        )
        await twilio.send(call)

        assert db.one(Obligation).missed_calls == 1

    async def test_both_reports_of_one_call_count_once_in_either_order(
        self, twilio: TwilioSimulator, recruiter: Recruiter, db: TestDatabase
    ) -> None:
        leg, call = twilio.observed_callbacks(
            caller=CALLER, line=recruiter.line, mobile=recruiter.mobile, call_status="no-answer"
        )
        for request in (call, leg, call, leg):
            await twilio.send(request)
        leg, call = twilio.observed_callbacks(
            caller=CALLER, line=recruiter.line, mobile=recruiter.mobile, call_status="no-answer"
        )
        for request in (leg, call):
            await twilio.send(request)

        assert db.one(Obligation).missed_calls == 2

    async def test_a_completed_call_with_no_unanswered_leg_is_no_miss(
        self, twilio: TwilioSimulator, recruiter: Recruiter, db: TestDatabase
    ) -> None:
        leg, call = twilio.observed_callbacks(
            caller=CALLER, line=recruiter.line, mobile=recruiter.mobile, leg_status="completed"
        )
        for request in (leg, call):
            await twilio.send(request)

        assert db.count(Obligation) == 0 and db.count(Call) == 2

    async def test_a_leg_to_a_number_that_is_no_recruiters_mobile_is_only_logged(
        self, twilio: TwilioSimulator, recruiter: Recruiter, db: TestDatabase
    ) -> None:
        leg, call = twilio.observed_callbacks(
            caller=CALLER, line=recruiter.line, mobile="+14155550999"
        )
        for request in (leg, call):
            await twilio.send(request)

        assert db.count(Obligation) == 0

    async def test_a_withheld_callers_unanswered_call_is_only_logged(
        self, twilio: TwilioSimulator, recruiter: Recruiter, db: TestDatabase
    ) -> None:
        leg, call = twilio.observed_callbacks(
            caller="anonymous", line=recruiter.line, mobile=recruiter.mobile
        )
        for request in (leg, call):
            await twilio.send(request)

        assert db.count(Obligation) == 0
        assert db.one(Call, Call.call_sid == call.params["CallSid"]).missed_at is not None


def finish_failed_sqlite_connects() -> None:
    """Let aiosqlite's threads of failed connects report back while this test's loop runs."""
    for thread in threading.enumerate():
        if "_connection_worker_thread" in thread.name:
            thread.join(timeout=5)


def unreachable(db: TestDatabase) -> str:
    if db.backend == "sqlite":
        return "sqlite:////nonexistent-callpledge-dir/gone.db"
    return "postgresql://postgres@127.0.0.1:1/gone"


async def test_the_fallback_takes_a_voicemail_with_the_database_gone(
    settings: Settings, clock: Any, db: TestDatabase, recruiter: Recruiter
) -> None:
    broken = settings.model_copy(update={"database_url": unreachable(db)})
    app = create_app(broken, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            record = await simulator(http, broken).fallback_call(
                CallScript(caller=CALLER, line=recruiter.line, message=MESSAGE)
            )
    finish_failed_sqlite_connects()

    assert record.caller_heard == [twiml.GREETING]
    fallback, recorded, recording, transcription = record.exchanges
    assert (fallback.status_code, recorded.status_code) == (200, 200)
    record_verb = fallback.twiml().find("Record")
    assert record_verb is not None and int(record_verb.get("maxLength", "0")) <= 120
    # The callbacks need the database: they fail cleanly, for reconciliation to restore.
    assert (recording.status_code, transcription.status_code) == (503, 503)
