"""Twilio's real delivery: callbacks repeated, concurrent and in any order change nothing."""

import asyncio
import itertools
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from app.config import Settings
from app.models import Call, Obligation, ObligationEvent, Recruiter, Voicemail
from app.simulator.exchange import CallRecord, CallScript, Request, new_sid
from app.simulator.twilio import TwilioSimulator
from app.twilio import twiml
from tests.support.databases import TestDatabase
from tests.support.live import LiveServer
from tests.support.loop import CALLER, simulator

MESSAGE = "Call me back about the night shift, please."


@pytest.fixture
async def live_twilio(
    live_server: LiveServer, settings: Settings
) -> AsyncIterator[TwilioSimulator]:
    """Twilio, calling the app over real sockets."""
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        yield simulator(http, settings)


def the_request(record: CallRecord, path: str) -> Request:
    (exchange,) = record.sent_to(path)
    return exchange.request


def deliver_at_once_from_threads(
    twilio: TwilioSimulator, live_server: LiveServer, request: Request, times: int
) -> list[int]:
    """POST the same signed request from `times` threads released together."""
    path, form, headers = twilio.signed(request)
    start = threading.Barrier(times)

    def post(_: int) -> int:
        with httpx.Client(base_url=live_server.url, timeout=30) as http:
            start.wait()
            return http.post(path, data=form, headers=headers).status_code

    with ThreadPoolExecutor(times) as pool:
        return list(pool.map(post, range(times)))


def assert_one_miss(db: TestDatabase, events: list[str]) -> None:
    obligation = db.one(Obligation)
    assert obligation.missed_calls == 1
    assert sorted(e.kind for e in db.all(ObligationEvent)) == sorted(events)


async def test_the_dial_action_delivered_ten_times_counts_one_miss(
    twilio: TwilioSimulator, recruiter: Recruiter, db: TestDatabase
) -> None:
    record = await twilio.call(CallScript(caller=CALLER, line=recruiter.line))
    for _ in range(9):
        assert (await twilio.send(the_request(record, twiml.DIAL_RESULT))).status_code == 200

    assert_one_miss(db, ["opened"])


async def test_every_callback_ten_times_at_once_from_threads_counts_one_miss(
    live_twilio: TwilioSimulator, live_server: LiveServer, recruiter: Recruiter, db: TestDatabase
) -> None:
    record = await live_twilio.call(CallScript(caller=CALLER, line=recruiter.line, message=MESSAGE))
    for path in (twiml.DIAL_RESULT, twiml.STATUS, twiml.RECORDING, twiml.TRANSCRIPTION):
        request = the_request(record, path)
        codes = deliver_at_once_from_threads(live_twilio, live_server, request, 10)
        assert set(codes) <= {200, 204}, codes

    assert_one_miss(db, ["opened", "voicemail", "transcript"])
    assert db.one(Voicemail).transcript == MESSAGE


async def test_ten_first_status_callbacks_of_an_unanswered_call_at_once_open_one_obligation(
    live_twilio: TwilioSimulator, live_server: LiveServer, recruiter: Recruiter, db: TestDatabase
) -> None:
    # Observe mode: the call's status callback is the first the service hears of it, ten
    # times at once (on PostgreSQL the twins race to insert its row in one statement).
    reference = await live_twilio.call(CallScript(caller="+447700900999", line=recruiter.line))
    fresh = {"CallSid": new_sid("CA"), "From": CALLER, "Caller": CALLER}
    status = the_request(reference, twiml.STATUS).but(CallStatus="no-answer", **fresh)
    codes = deliver_at_once_from_threads(live_twilio, live_server, status, 10)

    assert codes == [204] * 10
    obligation = db.one(Obligation, Obligation.caller == CALLER)
    assert obligation.missed_calls == 1
    assert db.count(Call, Call.call_sid == fresh["CallSid"]) == 1


async def test_ten_first_deliveries_at_once_from_threads_open_one_obligation(
    live_twilio: TwilioSimulator, live_server: LiveServer, recruiter: Recruiter, db: TestDatabase
) -> None:
    # A reference call shows the Dial action's URL and form; a fresh call then gets its
    # first and nine duplicate Dial actions all at once.
    reference = await live_twilio.call(CallScript(caller="+447700900999", line=recruiter.line))
    incoming, dial = (
        the_request(reference, twiml.INCOMING),
        the_request(reference, twiml.DIAL_RESULT),
    )
    fresh = {"CallSid": new_sid("CA"), "From": CALLER, "Caller": CALLER}
    await live_twilio.send(incoming.but(**fresh))
    codes = deliver_at_once_from_threads(live_twilio, live_server, dial.but(**fresh), 10)

    assert codes == [200] * 10
    obligation = db.one(Obligation, Obligation.caller == CALLER)
    assert obligation.missed_calls == 1
    assert db.count(ObligationEvent, ObligationEvent.obligation_id == obligation.id) == 1


def rebound(request: Request, call_sid: str, recording_sid: str, caller: str) -> Request:
    """The same webhook about another call (only the parameters it carries change)."""
    changes = {"CallSid": call_sid, "RecordingSid": recording_sid, "From": caller, "Caller": caller}
    return request.but(**{name: value for name, value in changes.items() if name in request.params})


def final_state(db: TestDatabase, obligation: Obligation) -> dict[str, Any]:
    """What must not depend on arrival order (ids and SIDs aside)."""
    voicemails = db.all(Voicemail, Voicemail.obligation_id == obligation.id)
    events = db.all(ObligationEvent, ObligationEvent.obligation_id == obligation.id)
    return {
        "obligation": (
            obligation.status,
            obligation.missed_calls,
            obligation.opened_at,
            obligation.last_missed_at,
            obligation.next_reminder_at,
        ),
        "voicemails": [
            (v.duration_seconds, v.transcript, v.recording_status, v.transcript_status)
            for v in voicemails
        ],
        "has_recording": [v.recording_url is not None for v in voicemails],
        "events": sorted((e.kind, e.actor) for e in events),
    }


@pytest.mark.parametrize("withheld", [False, True], ids=["caller", "withheld"])
async def test_every_arrival_order_of_the_callbacks_gives_the_same_obligation(
    withheld: bool, twilio: TwilioSimulator, recruiter: Recruiter, db: TestDatabase
) -> None:
    reference = await twilio.call(
        CallScript(caller="anonymous" if withheld else CALLER, line=recruiter.line, message=MESSAGE)
    )
    expected = final_state(db, db.one(Obligation))
    incoming = the_request(reference, twiml.INCOMING)
    callbacks = [
        the_request(reference, path)
        for path in (twiml.DIAL_RESULT, twiml.STATUS, twiml.RECORDING, twiml.TRANSCRIPTION)
    ]

    for number, order in enumerate(itertools.permutations(callbacks)):
        caller = "anonymous" if withheld else f"+4477009002{number:02d}"
        call_sid, recording_sid = new_sid("CA"), new_sid("RE")
        for request in (incoming, *order):
            exchange = await twilio.send(rebound(request, call_sid, recording_sid, caller))
            assert exchange.status_code in (200, 204), exchange.body
        (voicemail,) = db.all(Voicemail, Voicemail.recording_sid == recording_sid)
        assert final_state(db, db.one(Obligation, Obligation.id == voicemail.obligation_id)) == (
            expected
        ), [httpx.URL(r.url).path for r in order]


async def test_twenty_concurrent_missed_calls_from_one_caller_make_one_obligation(
    live_twilio: TwilioSimulator, recruiter: Recruiter, db: TestDatabase
) -> None:
    script = CallScript(caller=CALLER, line=recruiter.line, message=MESSAGE)
    await asyncio.gather(*(live_twilio.call(script) for _ in range(20)))

    obligation = db.one(Obligation)
    assert obligation.missed_calls == 20
    assert db.count(Voicemail, Voicemail.obligation_id == obligation.id) == 20
    kinds = [e.kind for e in db.all(ObligationEvent)]
    assert (kinds.count("opened"), kinds.count("missed_call"), kinds.count("transcript")) == (
        1,
        19,
        20,
    )
