"""Bad input against every /twilio/* route, on both databases: a clear 4xx that writes
nothing, or (for odd values Twilio could send) a normal answer; never a 500.

The routes come from the app itself, so a route added later is drilled too (and
`test_every_twilio_route_has_an_example` asks for its valid webhook).
"""

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, func, select

from app.models import Call, Obligation, OutboxItem, OutboxKind, OutboxStatus, Voicemail
from tests.drills.webhooks import (
    CALL_SID,
    E164,
    EXAMPLES,
    Example,
    Ids,
    assert_error_shape,
    registered_twilio_routes,
    snapshot,
)
from tests.support.databases import TestDatabase
from tests.support.factories import T0, make_call, make_obligation, make_recruiter
from tests.support.signer import TwilioSigner

ROUTES = registered_twilio_routes()
_sids = itertools.count(1)

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


@pytest.fixture
def ids(db: TestDatabase) -> Ids:
    """A recruiter with an open obligation, a logged call and an outbox item."""
    recruiter = make_recruiter(db)
    obligation = make_obligation(recruiter)
    db.add(obligation)
    db.add(make_call(recruiter, CALL_SID, obligation_id=obligation.id))
    item = OutboxItem(
        kind=OutboxKind.SMS,
        purpose="nudge",
        idempotency_key="drill",
        recruiter_id=recruiter.id,
        to_number=recruiter.mobile,
        from_number=recruiter.line,
        body="You missed a call",
        status=OutboxStatus.SENT,
        attempts=1,
        next_attempt_at=T0,
        created_at=T0,
        updated_at=T0,
    )
    db.add(item)
    return Ids(recruiter.id, item.id, recruiter.line, recruiter.mobile)


@pytest.fixture(params=ROUTES)
def route(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def example(route: str) -> Example:
    if route not in EXAMPLES:
        pytest.fail(f"{route} has no valid webhook in tests/drills/webhooks.py EXAMPLES")
    return EXAMPLES[route]


class Drill:
    """Sends one route's webhooks, variations of its example, and checks each answer."""

    def __init__(
        self, client: httpx.AsyncClient, signer: TwilioSigner, ids: Ids, example: Example
    ) -> None:
        self.client, self.signer = client, signer
        self.path, self.params = ids.fill(example)
        self.example = example
        self.tried = 0
        client.event_hooks["request"].append(self._count)

    async def _count(self, _request: httpx.Request) -> None:
        self.tried += 1

    def fresh(self, **changes: str) -> dict[str, str]:
        """The example with new SIDs (so every case is a first delivery) and `changes`."""
        params = {
            key: f"{value[:2]}{next(_sids):032d}"
            if key.endswith("Sid") and key != "AccountSid"
            else value
            for key, value in self.params.items()
        }
        return params | changes

    async def post(
        self,
        params: dict[str, str],
        *,
        path: str | None = None,
        signed_path: str | None = None,
        signed_params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """POST `params` to `path`, signed for `signed_path` and `signed_params` (default:
        as sent)."""
        path = path or self.path
        signature = self.signer.headers(
            signed_path or path, params if signed_params is None else signed_params
        )
        return await self.client.post(path, data=params, headers=signature | (headers or {}))


class Tables:
    """One connection to the test database, for looking between requests."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._last: dict[str, list[tuple[Any, ...]]] | None = None

    def before(self) -> dict[str, list[tuple[Any, ...]]]:
        """The rows as the last request left them (every request here goes through
        `refused` or `survives`, which look after each one)."""
        return self._last if self._last is not None else self.after()

    def after(self) -> dict[str, list[tuple[Any, ...]]]:
        self._last = snapshot(self.connection)
        return self._last

    def assert_sane(self) -> None:
        """What any webhook may leave: callers in E.164 (or withheld), call-log numbers clipped."""
        callers = self.connection.scalars(select(Obligation.caller)).all()
        assert all(c is None or E164.fullmatch(c) for c in callers), callers
        longest = self.connection.scalar(
            select(func.max(func.length(Call.from_number) + func.length(Call.to_number)))
        )
        self.connection.rollback()
        assert (longest or 0) <= 2 * 128


async def refused(
    drill: Drill,
    tables: Tables,
    status: int,
    code: str,
    request: Callable[[], Awaitable[httpx.Response]],
    *,
    naming: str | None = None,
) -> dict[str, Any]:
    """The request answers `status` with error `code` (naming a field) and writes nothing."""
    before = tables.before()
    response = await request()
    assert response.status_code == status, (response.status_code, response.text[:300])
    body = assert_error_shape(response)
    assert body["error"] == code, body
    if naming is not None:
        assert naming in str(body["detail"]), body
    assert tables.after() == before, "a refused webhook wrote to the database"
    return body


async def survives(drill: Drill, tables: Tables, params: dict[str, str]) -> httpx.Response:
    """A signed webhook with odd values: answered normally or refused cleanly, never a 5xx."""
    before = tables.before()
    response = await drill.post(params)
    assert response.status_code < 500, (response.status_code, response.text[:300])
    after = tables.after()
    if response.status_code >= 400:
        assert_error_shape(response)
        assert after == before, "a refused webhook wrote to the database"
    return response


@pytest.fixture
def drill(
    client: httpx.AsyncClient, signer: TwilioSigner, ids: Ids, example: Example, route: str
) -> Iterator[Drill]:
    drill = Drill(client, signer, ids, example)
    yield drill
    print(f" [{drill.tried} requests to {route}]", end="")  # shown with `pytest -s`


@pytest.fixture
def tables(db: TestDatabase) -> Iterator[Tables]:
    with db.engine.connect() as connection:
        yield Tables(connection)


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

    form = {"content-type": "application/x-www-form-urlencoded"}
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


async def test_huge_and_odd_phone_strings_never_fail_the_service(
    drill: Drill, tables: Tables
) -> None:
    for name, value in itertools.product(drill.example.numbers, PHONES):
        await survives(drill, tables, drill.fresh(**{name: value}))
    tables.assert_sane()


async def test_sql_looking_and_unicode_text_is_stored_as_text(
    drill: Drill, tables: Tables, db: TestDatabase
) -> None:
    for name, text in itertools.product(drill.example.texts, TEXTS):
        params = drill.fresh(**{name: text})
        response = await survives(drill, tables, params)
        assert response.status_code < 300, (name, text[:40], response.text[:300])
        _assert_stored(db, name, text, params)
    assert db.count(Obligation) >= 1  # nothing was dropped or emptied
    tables.assert_sane()


def _assert_stored(db: TestDatabase, name: str, text: str, params: dict[str, str]) -> None:
    """Where the service keeps the field, it kept the text as sent (clipped), never ran it."""
    if name == "TranscriptionText":
        voicemail = db.one(Voicemail, Voicemail.recording_sid == params["RecordingSid"])
        assert voicemail.transcript == text
    if name == "CallerName" and (calls := db.all(Call, Call.call_sid == params["CallSid"])):
        assert calls[0].caller_name == text[:120]


@pytest.mark.parametrize("route", ["/twilio/voice/dial"])
async def test_a_dial_action_naming_no_recruiter_is_422_and_writes_nothing(
    drill: Drill, tables: Tables
) -> None:
    params = drill.fresh()
    for recruiter in ["", "abc", "-1", "0", "1.5", "99999", "9" * 30, "1e3", "0x10"]:
        path = f"/twilio/voice/dial?recruiter={recruiter}"
        await refused(
            drill,
            tables,
            422,
            "validation_error",
            lambda p=path: drill.post(params, path=p),
            naming="recruiter",
        )
    bare = "/twilio/voice/dial"
    await refused(drill, tables, 422, "validation_error", lambda: drill.post(params, path=bare))


@pytest.mark.parametrize("route", ["/twilio/sms/status"])
async def test_a_delivery_report_naming_an_impossible_outbox_item_or_sid_is_422(
    drill: Drill, tables: Tables
) -> None:
    # The item is still `sent`, so this report would be applied but for its SID.
    overlong = drill.fresh(MessageSid="SM" + "9" * 100)
    await refused(
        drill,
        tables,
        422,
        "validation_error",
        lambda: drill.post(overlong),
        naming="MessageSid",
    )
    params = drill.fresh()
    for outbox in ["abc", "-1", "0", "9" * 30, "1.5"]:
        path = f"/twilio/sms/status?outbox={outbox}"
        await refused(
            drill,
            tables,
            422,
            "validation_error",
            lambda p=path: drill.post(params, path=p),
            naming="outbox",
        )
