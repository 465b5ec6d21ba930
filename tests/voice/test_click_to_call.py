"""Click-to-call end to end: the API queues it, the worker places it at the fake Twilio, and
the simulator plays both legs, following the TwiML: the recruiter's leg is screened first."""

import httpx
import pytest

from app.models import Call, CloseReason, Obligation, ObligationStatus, Recruiter
from app.outbox.worker import Worker
from app.simulator.exchange import CallRecord, RecruiterDoes
from app.simulator.recruiter import CalleeDoes, PlacedCall, RecruiterPhone
from app.twilio import twiml
from tests.support.databases import TestDatabase
from tests.support.fake_twilio import FakeTwilio
from tests.support.loop import API_TOKEN, CALLER, fresh, timeline


async def request_call(client: httpx.AsyncClient, obligation: Obligation) -> None:
    response = await client.post(
        f"/api/v1/obligations/{obligation.id}/call",
        headers={"Authorization": f"Bearer {API_TOKEN}"},
    )
    assert response.status_code == 202


async def placed_call(worker: Worker, fake: FakeTwilio) -> PlacedCall:
    """Let the worker place the queued call; the call as Twilio was asked to place it."""
    await worker.run_once()
    [call] = fake.calls
    [created] = [r for r in fake.requests if r.method == "POST" and r.path.endswith("/Calls.json")]
    return PlacedCall(
        sid=call["sid"],
        to=created.value("To") or "",
        from_number=created.value("From") or "",
        url=created.value("Url") or "",
        status_callback=created.value("StatusCallback"),
        status_callback_events=tuple(created.form["StatusCallbackEvent"]),
    )


def paths(record: CallRecord) -> list[str]:
    return [httpx.URL(e.request.url).path for e in record.exchanges]


async def test_click_to_call_rings_the_recruiter_screens_them_then_closes_on_an_answer(
    client: httpx.AsyncClient,
    worker: Worker,
    fake_twilio: FakeTwilio,
    phone: RecruiterPhone,
    recruiter: Recruiter,
    owed: Obligation,
    db: TestDatabase,
) -> None:
    await request_call(client, owed)
    placed = await placed_call(worker, fake_twilio)
    assert (placed.to, placed.from_number) == (recruiter.mobile, recruiter.line)

    record = await phone.take_placed_call(placed, recruiter=RecruiterDoes.ACCEPTS)

    assert paths(record) == [
        twiml.STATUS,  # initiated
        twiml.STATUS,  # ringing
        twiml.STATUS,  # answered
        twiml.CONNECT,
        twiml.CONNECT_CHOICE,
        twiml.STATUS,  # the caller's leg ended
        twiml.CALLBACK_RESULT,
        twiml.STATUS,  # the recruiter's leg ended
    ]
    assert record.recruiter_heard == [
        "Callpledge. Press 1 to call back plus 4 4, 7 7 0 0, 9 0 0 1 2 3 now.",
        "Calling plus 4 4, 7 7 0 0, 9 0 0 1 2 3.",
    ]
    [dial] = record.exchanges[4].twiml().iter("Dial")
    assert dial.get("callerId") == recruiter.line
    closed = fresh(db, owed)
    assert (closed.status, closed.close_reason) == (ObligationStatus.CLOSED, CloseReason.CALLBACK)
    actor = f"recruiter:{recruiter.id}"
    assert timeline(db, owed)[-2:] == [("call_requested", "env-token-1"), ("closed", actor)]
    leg = db.one(Call, Call.parent_call_sid == placed.sid)
    assert (leg.to_number, leg.from_number, leg.obligation_id) == (CALLER, recruiter.line, owed.id)
    assert db.one(Call, Call.call_sid == placed.sid).recruiter_id == recruiter.id


@pytest.mark.parametrize(
    "does", [RecruiterDoes.CARRIER_VOICEMAIL, RecruiterDoes.DECLINES], ids=["voicemail", "declines"]
)
async def test_the_caller_is_not_dialled_unless_the_recruiter_presses_1(
    does: RecruiterDoes,
    client: httpx.AsyncClient,
    worker: Worker,
    fake_twilio: FakeTwilio,
    phone: RecruiterPhone,
    owed: Obligation,
    db: TestDatabase,
) -> None:
    await request_call(client, owed)
    record = await phone.take_placed_call(await placed_call(worker, fake_twilio), recruiter=does)

    assert twiml.CONNECT in paths(record) and twiml.CALLBACK_RESULT not in paths(record)
    assert not any("<Dial" in exchange.body for exchange in record.exchanges)
    assert not record.bridged
    still = fresh(db, owed)
    assert (still.status, still.callback_attempts) == (ObligationStatus.OPEN, 0)
    assert db.count(Call, Call.to_number == CALLER, Call.direction == "outbound-dial") == 0


@pytest.mark.parametrize("does", [RecruiterDoes.NO_ANSWER, RecruiterDoes.BUSY])
async def test_a_recruiter_who_does_not_pick_up_dials_nobody(
    does: RecruiterDoes,
    client: httpx.AsyncClient,
    worker: Worker,
    fake_twilio: FakeTwilio,
    phone: RecruiterPhone,
    owed: Obligation,
    db: TestDatabase,
) -> None:
    await request_call(client, owed)
    record = await phone.take_placed_call(await placed_call(worker, fake_twilio), recruiter=does)

    assert set(paths(record)) == {twiml.STATUS}
    assert fresh(db, owed).status is ObligationStatus.OPEN


async def test_a_caller_who_does_not_answer_is_an_attempt_the_recruiter_hears_about(
    client: httpx.AsyncClient,
    worker: Worker,
    fake_twilio: FakeTwilio,
    phone: RecruiterPhone,
    recruiter: Recruiter,
    owed: Obligation,
    db: TestDatabase,
) -> None:
    await request_call(client, owed)
    record = await phone.take_placed_call(
        await placed_call(worker, fake_twilio),
        recruiter=RecruiterDoes.ACCEPTS,
        callee=CalleeDoes.NO_ANSWER,
        leg_reported_first=False,
    )

    assert record.recruiter_heard[-1] == twiml.NO_ANSWER_NOTED
    still = fresh(db, owed)
    assert (still.status, still.callback_attempts) == (ObligationStatus.OPEN, 1)
    assert timeline(db, owed)[-1] == ("callback_attempt", f"recruiter:{recruiter.id}")


async def test_an_obligation_closed_while_the_phone_rang_is_not_dialled(
    client: httpx.AsyncClient,
    worker: Worker,
    fake_twilio: FakeTwilio,
    phone: RecruiterPhone,
    owed: Obligation,
) -> None:
    await request_call(client, owed)
    placed = await placed_call(worker, fake_twilio)
    closed = await client.post(
        f"/api/v1/obligations/{owed.id}/close", headers={"Authorization": f"Bearer {API_TOKEN}"}
    )
    assert closed.status_code == 200

    record = await phone.take_placed_call(placed, recruiter=RecruiterDoes.ACCEPTS)

    assert record.recruiter_heard == [twiml.NOTHING_TO_CALL]
    assert twiml.CALLBACK_RESULT not in paths(record)


async def test_a_connect_url_of_no_click_to_call_dials_nobody(
    phone: RecruiterPhone, recruiter: Recruiter, owed: Obligation
) -> None:
    placed = PlacedCall(
        sid="CA" + "3" * 32,
        to=recruiter.mobile,
        from_number=recruiter.line,
        url=phone.twilio.url(f"{twiml.CONNECT}?outbox=999"),
    )
    record = await phone.take_placed_call(placed, recruiter=RecruiterDoes.ACCEPTS)

    assert record.recruiter_heard == [twiml.NOTHING_TO_CALL]
