"""The softphone route end to end: the TwiML App's Voice URL dials for a known identity only,
from the recruiter's line, and the dialled leg's end closes or records through either report."""

import httpx
import pytest
from sqlalchemy import update

from app.models import Call, CloseReason, Obligation, ObligationStatus, Recruiter
from app.simulator.exchange import Request
from app.simulator.recruiter import CalleeDoes, RecruiterPhone
from app.simulator.twilio import TwilioSimulator
from app.twilio import twiml
from tests.support.databases import TestDatabase
from tests.support.loop import CALLER, IDENTITY, fresh, timeline


async def test_a_softphone_callback_that_is_answered_closes_the_obligation(
    phone: RecruiterPhone, recruiter: Recruiter, owed: Obligation, db: TestDatabase
) -> None:
    record = await phone.softphone_call(identity=IDENTITY, to=CALLER)

    [dial] = record.exchanges[0].twiml().iter("Dial")
    assert dial.get("callerId") == recruiter.line
    assert record.bridged
    closed = fresh(db, owed)
    assert (closed.status, closed.close_reason) == (ObligationStatus.CLOSED, CloseReason.CALLBACK)
    kind, actor = timeline(db, owed)[-1]
    assert (kind, actor) == ("closed", f"recruiter:{recruiter.id}")
    leg = db.one(Call, Call.parent_call_sid == record.call_sid)
    assert (leg.direction, leg.to_number, leg.obligation_id) == ("outbound-dial", CALLER, owed.id)
    assert record.recruiter_heard == []


async def test_an_unknown_identity_hears_a_refusal_and_nothing_is_dialled(
    phone: RecruiterPhone, owed: Obligation, db: TestDatabase
) -> None:
    record = await phone.softphone_call(identity="mallory", to=CALLER)

    document = record.exchanges[0].twiml()
    assert [verb.tag for verb in document] == ["Say", "Hangup"]
    assert record.recruiter_heard == [twiml.NOT_A_SOFTPHONE]
    assert len(record.exchanges) == 1 and not record.bridged
    assert fresh(db, owed).status is ObligationStatus.OPEN
    assert db.one(Call, Call.call_sid == record.call_sid).recruiter_id is None


async def test_a_deactivated_recruiters_softphone_is_refused(
    phone: RecruiterPhone, recruiter: Recruiter, db: TestDatabase
) -> None:
    with db.session() as session:
        session.execute(update(Recruiter).where(Recruiter.id == recruiter.id).values(active=False))
        session.commit()

    record = await phone.softphone_call(identity=IDENTITY, to=CALLER)

    assert record.recruiter_heard == [twiml.NOT_A_SOFTPHONE]


@pytest.mark.parametrize("to", ["client:bob", "", "anonymous", "not a number"])
async def test_a_softphone_asking_for_no_phone_number_is_told_so(
    to: str, phone: RecruiterPhone, recruiter: Recruiter
) -> None:
    record = await phone.softphone_call(identity=IDENTITY, to=to)

    assert record.recruiter_heard == [twiml.NOT_A_NUMBER]
    assert not any(verb.tag == "Dial" for verb in record.exchanges[0].twiml())


async def test_a_sip_phone_dials_the_user_part_of_its_uri(
    phone: RecruiterPhone, recruiter: Recruiter, owed: Obligation, db: TestDatabase
) -> None:
    record = await phone.softphone_call(
        identity=IDENTITY, to="07700900123", sip_domain="team.sip.twilio.com"
    )

    [number] = record.exchanges[0].twiml().iter("Number")
    assert number.text == CALLER
    assert fresh(db, owed).close_reason is CloseReason.CALLBACK


@pytest.mark.parametrize("written", ["07700 900123", "447700900123", "+447700900123"])
async def test_the_softphone_reads_gb_numbers_written_any_way(
    written: str, phone: RecruiterPhone, owed: Obligation, db: TestDatabase
) -> None:
    await phone.softphone_call(identity=IDENTITY, to=written)

    assert fresh(db, owed).close_reason is CloseReason.CALLBACK


@pytest.mark.parametrize("leg_reported_first", [True, False], ids=["leg-first", "action-first"])
@pytest.mark.parametrize(
    "callee", [CalleeDoes.NO_ANSWER, CalleeDoes.BUSY, CalleeDoes.CALL_ABANDONED]
)
async def test_an_unanswered_softphone_call_is_one_attempt_whichever_report_comes_first(
    callee: CalleeDoes,
    leg_reported_first: bool,
    phone: RecruiterPhone,
    recruiter: Recruiter,
    owed: Obligation,
    db: TestDatabase,
) -> None:
    record = await phone.softphone_call(
        identity=IDENTITY, to=CALLER, callee=callee, leg_reported_first=leg_reported_first
    )

    still = fresh(db, owed)
    assert (still.status, still.callback_attempts) == (ObligationStatus.OPEN, 1)
    assert timeline(db, owed)[-1] == ("callback_attempt", f"recruiter:{recruiter.id}")
    assert record.recruiter_heard == [twiml.NO_ANSWER_NOTED]


async def test_the_dial_action_alone_settles_the_callback(
    twilio: TwilioSimulator, recruiter: Recruiter, owed: Obligation, db: TestDatabase
) -> None:
    # A Number status callback lost on the way: the Dial action still closes it.
    action = twilio.url(f"{twiml.CALLBACK_RESULT}?obligation={owed.id}")
    await twilio.send(dial_action(action, DialCallSid="CA" + "1" * 32, DialCallStatus="completed"))

    assert fresh(db, owed).close_reason is CloseReason.CALLBACK


async def test_a_softphone_call_to_someone_not_owed_only_logs_it(
    phone: RecruiterPhone, owed: Obligation, db: TestDatabase
) -> None:
    record = await phone.softphone_call(identity=IDENTITY, to="+447700900999")

    [dial] = record.exchanges[0].twiml().iter("Dial")
    assert "obligation=" not in (dial.get("action") or "")
    assert fresh(db, owed).status is ObligationStatus.OPEN
    assert db.count(Call, Call.parent_call_sid == record.call_sid) == 1


async def test_an_unsigned_softphone_request_is_refused(
    client: httpx.AsyncClient, recruiter: Recruiter
) -> None:
    response = await client.post(
        twiml.OUTBOUND, data={"CallSid": "CA1", "From": "client:alice", "To": CALLER}
    )

    assert response.status_code == 403


def dial_action(url: str, **params: str) -> Request:
    """The Dial action of a softphone call, as Twilio posts it."""
    call = {"CallSid": "CA" + "2" * 32, "From": "client:alice", "To": CALLER}
    return Request(url, call | {"Direction": "inbound", "CallStatus": "in-progress"} | params)
