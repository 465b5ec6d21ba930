"""The lean layer serves the signed /twilio/ webhooks itself, with the answers FastAPI gave."""

from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.types import Receive, Scope, Send

from app.http.twilio_route import TwilioWebhooks, lean_webhooks
from app.models import Recruiter
from app.sms import routes as sms
from app.twilio import twiml
from app.voice import routes as voice
from tests.support.databases import TestDatabase
from tests.support.factories import make_recruiter
from tests.support.signer import TwilioSigner

MISS = {
    "CallSid": "CA" + "7" * 32,
    "From": "+447700900123",
    "CallStatus": "in-progress",
    "DialCallStatus": "no-answer",
    "DialBridged": "false",
}


class Behind:
    """What sits behind the lean layer: records the requests passed on, answers 404."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.paths.append(scope["path"])
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def in_front_of(app: FastAPI, behind: Behind) -> object:
    """The lean layer over `behind`, in `app`'s scope (its runtime, its error handlers)."""
    layer = TwilioWebhooks(behind, routes=[*sms.router.routes, *voice.router.routes])

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        await layer({**scope, "app": app}, receive, send)

    return asgi


def test_every_voice_route_and_the_sms_command_route_are_lean() -> None:
    lean = lean_webhooks([*sms.router.routes, *voice.router.routes])
    voice_paths = {route.path for route in voice.router.routes if isinstance(route, APIRoute)}
    assert voice_paths <= set(lean)
    assert "/twilio/sms/incoming" in lean
    # Its `outbox` query parameter is validated by FastAPI: it stays there.
    assert "/twilio/sms/status" not in lean


async def test_a_signed_miss_is_answered_without_reaching_fastapi(
    app: FastAPI, client: httpx.AsyncClient, signer: TwilioSigner, db: TestDatabase
) -> None:
    recruiter: Recruiter = make_recruiter(db)
    behind = Behind()
    path = f"{twiml.DIAL_RESULT}?recruiter={recruiter.id}"
    transport = httpx.ASGITransport(app=in_front_of(app, behind))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        answer = await http.post(path, data=MISS, headers=signer.headers(path, MISS))
        passed_on = await http.get(path)
        other = await http.post("/twilio/voice/nowhere", data=MISS)
    assert answer.status_code == 200 and "<Record " in answer.text
    assert behind.paths == [twiml.DIAL_RESULT, "/twilio/voice/nowhere"]
    assert passed_on.status_code == other.status_code == 404


async def test_an_unsigned_webhook_is_refused_before_its_body_is_read(
    client: httpx.AsyncClient,
) -> None:
    read: list[bytes] = []

    async def body() -> AsyncIterator[bytes]:
        read.append(b"CallSid=CA1")
        yield b"CallSid=CA1"

    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    answer = await client.post(twiml.SCREEN, content=body(), headers=headers)
    assert answer.status_code == 403
    assert answer.json() == {
        "error": "forbidden",
        "detail": "the X-Twilio-Signature header is missing",
    }
    assert read == []


async def test_errors_keep_the_applications_shapes(
    client: httpx.AsyncClient, signer: TwilioSigner
) -> None:
    form = {"CallSid": "CA1"}
    wrong = await client.post(twiml.SCREEN, data=form, headers={"X-Twilio-Signature": "x"})
    assert wrong.status_code == 403 and wrong.json()["error"] == "forbidden"
    headers = signer.headers(twiml.STATUS, form) | {"Content-Type": "text/plain"}
    unformed = await client.post(twiml.STATUS, content=b"CallSid=CA1", headers=headers)
    assert unformed.status_code == 415
    assert unformed.json()["error"] == "unsupported_media_type"
    missing = await client.post(twiml.STATUS, data=form, headers=signer.headers(twiml.STATUS, form))
    assert missing.status_code == 422
    assert missing.json() == {
        "error": "validation_error",
        "detail": "the field CallStatus is required",
    }
    many = "&".join(["a=1"] * 1001)
    crowded = await client.post(
        twiml.SCREEN,
        content=many.encode(),
        headers={"X-Twilio-Signature": "x", "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert crowded.status_code == 422
    assert crowded.json()["detail"][0]["type"] == "body_unreadable"
