"""The recruiter's side of the simulator plays TwiML as Twilio would, so flaws show up."""

import pytest

from app.simulator.exchange import FlowError, RecruiterDoes
from app.simulator.recruiter import CalleeDoes, PlacedCall, RecruiterPhone
from app.twilio import twiml
from tests.simulator.test_twilio import BASE, play, twiml_app

MOBILE, LINE = "+14155550100", "+15005550006"


def placed(url: str) -> PlacedCall:
    return PlacedCall(
        sid="CA" + "1" * 32, to=MOBILE, from_number=LINE, url=url, status_callback=f"{BASE}/status"
    )


async def test_a_connect_screen_without_a_hang_up_lets_a_carrier_voicemail_dial_the_caller() -> (
    None
):
    app = twiml_app(
        {
            "/connect": (
                f'<Response><Gather numDigits="1" action="{BASE}/choice"><Say>Press 1</Say>'
                f'</Gather><Dial action="{BASE}/done"><Number>+447700900123</Number></Dial>'
                "</Response>"
            ),
            "/done": "<Response><Hangup/></Response>",
            "/status": "<Response/>",
        }
    )
    phone = RecruiterPhone(play(app))

    record = await phone.take_placed_call(
        placed(f"{BASE}/connect"), recruiter=RecruiterDoes.CARRIER_VOICEMAIL
    )

    assert record.bridged and record.recruiter_heard == ["Press 1"]
    assert record.sent_to("/done")[0].request.params["DialCallStatus"] == "completed"


async def test_a_dial_without_an_action_fails_the_softphone_call() -> None:
    app = twiml_app(
        {twiml.OUTBOUND: "<Response><Dial><Number>+447700900123</Number></Dial></Response>"}
    )

    with pytest.raises(FlowError, match="names no action"):
        await RecruiterPhone(play(app)).softphone_call(identity="alice", to="+447700900123")


async def test_the_leg_status_and_the_dial_action_name_the_same_leg() -> None:
    app = twiml_app(
        {
            twiml.OUTBOUND: (
                f'<Response><Dial action="{BASE}/done" callerId="{LINE}">'
                f'<Number statusCallback="{BASE}/leg">+447700900123</Number></Dial></Response>'
            ),
            "/done": "<Response><Hangup/></Response>",
            "/leg": "<Response/>",
        }
    )

    record = await RecruiterPhone(play(app)).softphone_call(
        identity="alice", to="+447700900123", callee=CalleeDoes.BUSY
    )

    (leg,) = record.sent_to("/leg")
    (action,) = record.sent_to("/done")
    assert leg.request.params["CallSid"] == action.request.params["DialCallSid"]
    assert (leg.request.params["From"], leg.request.params["ParentCallSid"]) == (
        LINE,
        record.call_sid,
    )
    assert leg.request.params["CallStatus"] == action.request.params["DialCallStatus"] == "busy"
