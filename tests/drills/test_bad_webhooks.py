"""Bad input against every /twilio/* route, on both databases: a clear 4xx that writes
nothing, or (for odd values Twilio could send) a normal answer; never a 500.

The routes come from the app itself, so a route added later is drilled too (and
`test_every_twilio_route_has_an_example` asks for its valid webhook).
"""

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from app.models import Call, InboundMessage, Obligation, Voicemail
from tests.drills.drill import Drill, Tables, refused, survives
from tests.drills.webhooks import EXAMPLES, registered_twilio_routes
from tests.support.databases import TestDatabase
from tests.support.signer import TwilioSigner

ROUTES = registered_twilio_routes()
# Routes with fields of a kind (the rest have none to garble: running them would try nothing).
WITH_NUMBERS = [route for route in ROUTES if route in EXAMPLES and EXAMPLES[route].numbers]
WITH_TEXTS = [route for route in ROUTES if route in EXAMPLES and EXAMPLES[route].texts]

# Values Twilio never sends, put in each field of each route in turn.
GARBLED = [
    "",
    "   ",
    "x" * 10_000,
    "-1",
    "9" * 40,
    "１２",  # fullwidth digits
    "\x1b[2J\x07",
    "true' --",
    "\ufffd\ufffd",  # what undecodable bytes become
]
# Phone strings for From and To: huge, odd, unicode, not numbers at all.
PHONES = [
    "9" * 10_000,
    "+" * 10_000,
    "+",
    "",
    " ",
    "+４４７７００９００１２３",  # fullwidth
    "+٤٤٧٧٠٠٩٠٠١٢٣",  # Arabic-Indic
    "+44 (0) 7700-900.123",
    "tel:+447700900123",
    "client:alice",
    "sip:alice@example.com",
    "sip:" + "a" * 5_000 + "@example.com",
    "anonymous",
    "+266696687",
    "'; DROP TABLE obligations; --",
    "+1' OR '1'='1",
    "\u202e+447700900123",  # right-to-left override
    "+447700900123\u200b",  # zero-width space
    "☎️ 555-0100",
    "+1" + "2" * 30,
    "%2B447700900123",
]
# Free text (names, transcripts, SMS bodies): SQL-looking, unicode, control characters.
TEXTS = [
    "'; DROP TABLE obligations; --",
    "Robert'); DELETE FROM calls; --",
    "1 OR 1=1",
    '" OR ""="',
    "%' UNION SELECT token_hash FROM api_tokens --",
    "DONE 1; DROP TABLE recruiters",
    "ＤＯＮＥ　１",
    "DONE ١",
    "SNOOZE 1 " + "9999999d" * 200,
    "\ufeffDONE 1",
    "\u202eDONE 1",
    "Z̷̛̖a̵l̸g̶o̴",
    "مرحبا، أنا أتصل بخصوص الوظيفة",
    "日本語の留守番電話です",
    "💥" * 2_000,
    "\r\n\r\nHTTP/1.1 200 OK\r\n",
    "<Response><Dial>+15005550006</Dial></Response>",
    "{{7*7}} ${7*7} %s %n",
    "a" * 50_000,
]
NUL = "\x00"
NOT_FORMS = [
    ("application/json", b'{"CallSid": "CA1"}'),
    ("text/plain", b"CallSid=CA1"),
    (
        "multipart/form-data; boundary=x",
        b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--\r\n',
    ),
    ("application/xml", b"<CallSid>CA1</CallSid>"),
    ("application/x-www-form-urlencodedx", b"CallSid=CA1"),
    (None, b"CallSid=CA1"),
]


def test_every_twilio_route_has_an_example() -> None:
    assert ROUTES, "the app registers no /twilio/* route"
    assert sorted(set(ROUTES) - set(EXAMPLES)) == [], "add a valid webhook to EXAMPLES"
    assert sorted(set(EXAMPLES) - set(ROUTES)) == [], "EXAMPLES names a route the app lacks"


async def test_oversized_unformed_or_unpostable_requests_are_refused_and_write_nothing(
    drill: Drill, tables: Tables
) -> None:
    padded = drill.fresh(Padding="x" * 70_000)
    await refused(drill, tables, 413, "payload_too_large", lambda: drill.post(padded))

    async def streamed() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        yield str(httpx.QueryParams(drill.fresh())).encode()
        for _ in range(70):
            yield b"&Padding=" + b"x" * 1_000

    # A signature of some kind: a request with none is refused before its body is read.
    form = {"content-type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "x"}
    await refused(
        drill,
        tables,
        413,
        "payload_too_large",
        lambda: drill.client.post(drill.path, content=streamed(), headers=form),
    )
    for content_type, body in NOT_FORMS:
        params = drill.fresh()
        headers = drill.signer.headers(drill.path, params)
        headers |= {"content-type": content_type} if content_type else {}
        await refused(
            drill,
            tables,
            415,
            "unsupported_media_type",
            lambda b=body, h=headers: drill.client.post(drill.path, content=b, headers=h),
        )
    for method in ("GET", "PUT", "DELETE", "PATCH"):
        await refused(
            drill,
            tables,
            405,
            "method_not_allowed",
            lambda m=method: drill.client.request(m, drill.path),
        )


async def test_a_missing_forged_or_replayed_signature_is_403_and_writes_nothing(
    drill: Drill, tables: Tables
) -> None:
    params = drill.fresh()
    other_token = TwilioSigner("another-auth-token", drill.signer.public_base_url)
    plain_http = TwilioSigner(drill.signer.auth_token, "http://callpledge.example.com")
    separator = "&" if "?" in drill.path else "?"
    forged: list[Callable[[], Awaitable[httpx.Response]]] = [
        lambda: drill.client.post(drill.path, data=params),
        lambda: drill.post(params, headers={"X-Twilio-Signature": ""}),
        lambda: drill.post(params, headers={"X-Twilio-Signature": "not-a-signature"}),
        lambda: drill.post(params, headers={"X-Twilio-Signature": "A" * 10_000}),
        lambda: drill.post(params, headers=other_token.headers(drill.path, params)),
        lambda: drill.post(params, headers=plain_http.headers(drill.path, params)),
        lambda: drill.post(params, path=f"{drill.path}{separator}extra=1", signed_path=drill.path),
        lambda: drill.post(params | {"Extra": "1"}, signed_params=params),
    ]
    for name in params:  # each parameter changed, and each one left out
        changed = params | {name: params[name] + "1"}
        left_out = {k: v for k, v in params.items() if k != name}
        forged.append(lambda p=changed: drill.post(p, signed_params=params))
        forged.append(lambda p=left_out: drill.post(p, signed_params=params))
    for other in ROUTES:  # the same signed webhook replayed on every other route
        if other != drill.path.split("?")[0]:
            forged.append(lambda o=other: drill.post(params, path=o, signed_path=drill.path))

    for request in forged:
        await refused(drill, tables, 403, "forbidden", request)


async def test_a_missing_or_blank_required_field_is_422_naming_it_and_others_may_go(
    drill: Drill, tables: Tables
) -> None:
    for name in drill.example.required:
        dropped = {k: v for k, v in drill.fresh().items() if k != name}
        await refused(
            drill, tables, 422, "validation_error", lambda p=dropped: drill.post(p), naming=name
        )
        for blank in ("", "   "):
            blanked = drill.fresh(**{name: blank})
            await refused(
                drill, tables, 422, "validation_error", lambda p=blanked: drill.post(p), naming=name
            )
    for name in [None, *(set(drill.params) - set(drill.example.required))]:
        optional = {k: v for k, v in drill.fresh().items() if k != name}
        response = await survives(drill, tables, optional)
        assert 200 <= response.status_code < 300, (name, response.text[:300])


async def test_garbled_values_in_every_field_never_fail_the_service(
    drill: Drill, tables: Tables
) -> None:
    for name, value in itertools.product(drill.params, GARBLED):
        response = await survives(drill, tables, drill.fresh(**{name: value}))
        if name in drill.example.required and not value.strip():
            assert response.status_code == 422
    for name in drill.params:  # NUL: PostgreSQL text cannot hold it, Twilio never sends it
        params = drill.fresh(**{name: f"a{NUL}b"})
        await refused(
            drill, tables, 422, "validation_error", lambda p=params: drill.post(p), naming=name
        )
    with_nul_name = drill.fresh(**{f"Evil{NUL}": "1"})
    await refused(drill, tables, 422, "validation_error", lambda: drill.post(with_nul_name))
    tables.assert_sane()


@pytest.mark.parametrize("route", WITH_NUMBERS)
async def test_huge_and_odd_phone_strings_never_fail_the_service(
    drill: Drill, tables: Tables
) -> None:
    for name, value in itertools.product(drill.example.numbers, PHONES):
        await survives(drill, tables, drill.fresh(**{name: value}))
    tables.assert_sane()


@pytest.mark.parametrize("route", WITH_TEXTS)
async def test_sql_looking_and_unicode_text_is_stored_as_text(
    drill: Drill, tables: Tables, db: TestDatabase
) -> None:
    obligations = db.count(Obligation)
    for name, text in itertools.product(drill.example.texts, TEXTS):
        params = drill.fresh(**{name: text})
        response = await survives(drill, tables, params)
        assert response.status_code < 300, (name, text[:40], response.text[:300])
        _assert_stored(db, name, text, params)
    assert db.count(Obligation) >= obligations  # nothing was dropped or emptied
    tables.assert_sane()


def _assert_stored(db: TestDatabase, name: str, text: str, params: dict[str, str]) -> None:
    """Where the service keeps the field, it kept the text as sent (clipped), never ran it."""
    if name == "TranscriptionText":
        voicemail = db.one(Voicemail, Voicemail.recording_sid == params["RecordingSid"])
        assert voicemail.transcript == text
    if name == "CallerName" and (calls := db.all(Call, Call.call_sid == params["CallSid"])):
        assert calls[0].caller_name == text[:120]
    if name == "Body":
        message = db.one(InboundMessage, InboundMessage.message_sid == params["MessageSid"])
        assert message.body == text
