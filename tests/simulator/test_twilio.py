"""The simulator plays TwiML as Twilio would, so a flaw in the service's TwiML shows up."""

import httpx
import pytest
from fastapi import FastAPI, Response

from app.simulator.exchange import CallScript, FlowError, RecruiterDoes
from app.simulator.twilio import TwilioSimulator
from app.twilio import twiml

BASE = "https://voice.example.com"


def twiml_app(documents: dict[str, str]) -> FastAPI:
    """A stand-in service answering fixed TwiML per path."""
    app = FastAPI()
    for path, document in documents.items():

        async def answer(document: str = document) -> Response:
            return Response(document, media_type="text/xml")

        app.add_api_route(path, answer, methods=["POST"])
    app.add_api_route(twiml.STATUS, lambda: Response(status_code=204), methods=["POST"])
    return app


def play(app: FastAPI) -> TwilioSimulator:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service")
    return TwilioSimulator(client, auth_token="token", public_base_url=BASE)


SCRIPT = CallScript(caller="+447700900123", line="+15005550006")


async def test_a_dial_without_an_action_fails_the_call() -> None:
    app = twiml_app(
        {twiml.INCOMING: "<Response><Dial><Number>+14155550100</Number></Dial></Response>"}
    )
    with pytest.raises(FlowError, match="names no action"):
        await play(app).call(SCRIPT)


async def test_a_relative_url_fails_the_call() -> None:
    app = twiml_app(
        {
            twiml.INCOMING: (
                '<Response><Dial action="/twilio/voice/dial"><Number>+14155550100</Number>'
                "</Dial></Response>"
            )
        }
    )
    with pytest.raises(FlowError, match="not an absolute URL"):
        await play(app).call(SCRIPT)


async def test_an_error_answer_fails_the_call_with_its_status() -> None:
    app = FastAPI()
    app.add_api_route(twiml.INCOMING, lambda: Response(status_code=403), methods=["POST"])
    with pytest.raises(FlowError, match="answered 403") as raised:
        await play(app).call(SCRIPT)
    assert raised.value.status_code == 403


async def test_a_screen_that_does_not_hang_up_lets_a_carrier_voicemail_bridge() -> None:
    app = twiml_app(
        {
            twiml.INCOMING: (
                f'<Response><Dial action="{BASE}/dial"><Number url="{BASE}/screen">'
                "+14155550100</Number></Dial></Response>"
            ),
            "/screen": f'<Response><Gather numDigits="1" action="{BASE}/choice"/></Response>',
            "/dial": "<Response/>",
        }
    )
    script = CallScript(
        caller="+447700900123", line="+15005550006", recruiter=RecruiterDoes.CARRIER_VOICEMAIL
    )
    record = await play(app).call(script)

    assert record.bridged
    (dial,) = record.sent_to("/dial")
    assert dial.request.params["DialBridged"] == "true"
