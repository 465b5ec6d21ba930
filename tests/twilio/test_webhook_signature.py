"""Webhook signatures: checked against PUBLIC_BASE_URL + path + query, exactly as Twilio signs."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.http.twilio_params import TwilioParamsDep
from app.main import create_app
from tests.support.signer import TwilioSigner

PARAMS = {"CallSid": "CA" + "1" * 32, "From": "+447700900123", "To": "+15005550006"}


@pytest.fixture
def app(settings: Settings, clock: Any) -> FastAPI:
    application = create_app(settings, clock=clock)

    @application.post("/twilio/probe")
    async def probe(params: TwilioParamsDep) -> dict[str, str]:
        return {"call_sid": params.require("CallSid")}

    return application


async def test_a_signed_webhook_is_accepted(
    client: httpx.AsyncClient, signer: TwilioSigner
) -> None:
    response = await client.post(
        "/twilio/probe", data=PARAMS, headers=signer.headers("/twilio/probe", PARAMS)
    )
    assert response.status_code == 200
    assert response.json() == {"call_sid": PARAMS["CallSid"]}


async def test_the_query_string_is_part_of_what_is_signed(
    client: httpx.AsyncClient, signer: TwilioSigner
) -> None:
    path = "/twilio/probe?obligation=7&step=screen"
    response = await client.post(path, data=PARAMS, headers=signer.headers(path, PARAMS))
    assert response.status_code == 200
    forged = await client.post(
        "/twilio/probe?obligation=8&step=screen", data=PARAMS, headers=signer.headers(path, PARAMS)
    )
    assert forged.status_code == 403


async def test_a_missing_signature_is_403(client: httpx.AsyncClient) -> None:
    response = await client.post("/twilio/probe", data=PARAMS)
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"


async def test_a_changed_parameter_breaks_the_signature(
    client: httpx.AsyncClient, signer: TwilioSigner
) -> None:
    headers = signer.headers("/twilio/probe", PARAMS)
    response = await client.post(
        "/twilio/probe", data=PARAMS | {"From": "+14155550100"}, headers=headers
    )
    assert response.status_code == 403


async def test_a_signature_replayed_on_another_path_is_403(
    client: httpx.AsyncClient, signer: TwilioSigner
) -> None:
    headers = signer.headers("/twilio/voice/status", PARAMS)
    assert (await client.post("/twilio/probe", data=PARAMS, headers=headers)).status_code == 403


async def test_a_signature_for_another_host_is_403(client: httpx.AsyncClient) -> None:
    other = TwilioSigner("fake-auth-token", "https://attacker.example.com")
    response = await client.post(
        "/twilio/probe", data=PARAMS, headers=other.headers("/twilio/probe", PARAMS)
    )
    assert response.status_code == 403


async def test_a_signature_with_another_token_is_403(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    other = TwilioSigner("not-the-token", settings.public_base_url)
    response = await client.post(
        "/twilio/probe", data=PARAMS, headers=other.headers("/twilio/probe", PARAMS)
    )
    assert response.status_code == 403


async def test_a_signed_request_lacking_a_field_is_a_422_naming_it(
    client: httpx.AsyncClient, signer: TwilioSigner, caplog: pytest.LogCaptureFixture
) -> None:
    params = {"From": "+447700900123"}
    response = await client.post(
        "/twilio/probe", data=params, headers=signer.headers("/twilio/probe", params)
    )
    assert response.status_code == 422
    assert "CallSid" in response.json()["detail"]
    assert "CallSid" in caplog.text


async def test_a_non_form_body_is_refused(client: httpx.AsyncClient, signer: TwilioSigner) -> None:
    response = await client.post(
        "/twilio/probe", json=PARAMS, headers=signer.headers("/twilio/probe", {})
    )
    assert response.status_code == 415
    assert response.json()["error"] == "unsupported_media_type"


async def test_an_unsigned_request_is_forbidden_whatever_its_body(
    client: httpx.AsyncClient,
) -> None:
    for body in ({"json": PARAMS}, {"content": b""}, {"data": PARAMS}):
        response = await client.post("/twilio/probe", **body)  # type: ignore[arg-type]
        assert response.status_code == 403
        assert response.json()["error"] == "forbidden"


async def test_demo_mode_checks_signatures_with_the_demo_token(
    settings: Settings, clock: Any
) -> None:
    from app.config import DEMO_AUTH_TOKEN

    demo = settings.model_copy(update={"twilio_auth_token": None, "twilio_account_sid": None})
    application = create_app(demo, clock=clock)

    @application.post("/twilio/probe")
    async def probe(params: TwilioParamsDep) -> dict[str, str]:
        return {"call_sid": params.require("CallSid")}

    signer = TwilioSigner(DEMO_AUTH_TOKEN, settings.public_base_url)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            good = await client.post(
                "/twilio/probe", data=PARAMS, headers=signer.headers("/twilio/probe", PARAMS)
            )
            bad = await client.post("/twilio/probe", data=PARAMS)
    assert (good.status_code, bad.status_code) == (200, 403)
