"""A valid webhook for every /twilio/* route, the routes the app registers, and a way to
see that a request wrote nothing at all."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import Connection, select

from app.config import Settings
from app.main import create_app
from app.models import Base, OutboxItem, OutboxKind, OutboxObligation, OutboxStatus, Recruiter
from app.voice.click_to_call import PURPOSE as CLICK_TO_CALL
from tests.support.databases import TestDatabase
from tests.support.factories import T0, make_call, make_obligation, make_recruiter

CALL_SID = "CA" + "1" * 32
CALLER = "+447700900123"
IDENTITY = "alice"  # the drill recruiter's softphone: client:alice
E164 = re.compile(r"\+[1-9][0-9]{1,19}")
# What a reply must never hold: control characters, and the bidi overrides that would turn
# the rest of it around on the recruiter's screen.
UNSHOWABLE = set(map(chr, [*range(0x20), *range(0x7F, 0xA0)])) - {"\n"} | set(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


@dataclass(frozen=True)
class Example:
    """A webhook Twilio would send to `path` (`{recruiter}`, `{outbox}`... filled in per test)."""

    path: str
    params: dict[str, str]
    required: tuple[str, ...] = ()  # form fields whose absence is a 422 naming them
    numbers: tuple[str, ...] = ()  # fields that hold phone numbers
    texts: tuple[str, ...] = ()  # free text: names, transcripts, message bodies
    # Ids in the signed query string (`?outbox=`): one that no row could have is a 422.
    query_ids: tuple[str, ...] = ()
    query_optional: bool = False  # the route also answers a URL that names none

    def url(self, **ids: int) -> str:
        return self.path.format(**ids)


_CALL = {
    "AccountSid": "AC" + "f" * 32,
    "CallSid": CALL_SID,
    "From": CALLER,
    "ApiVersion": "2010-04-01",
}

# The click-to-call the service placed: from the line to the recruiter's mobile.
_PLACED_CALL = _CALL | {
    "From": "{line}",
    "To": "{mobile}",
    "CallStatus": "in-progress",
    "Direction": "outbound-api",
}

# Keyed by route path. A route the app registers without an example here fails
# `test_every_twilio_route_has_an_example`: add one when adding a route.
EXAMPLES: dict[str, Example] = {
    "/twilio/voice/incoming": Example(
        "/twilio/voice/incoming",
        _CALL
        | {"To": "{line}", "CallStatus": "ringing", "Direction": "inbound", "CallerName": "Ada"},
        required=("CallSid",),
        numbers=("From", "To"),
        texts=("CallerName",),
    ),
    "/twilio/voice/screen": Example(
        "/twilio/voice/screen",
        _CALL | {"To": "{mobile}", "CallStatus": "in-progress", "Direction": "outbound-dial"},
        numbers=("From", "To"),
    ),
    "/twilio/voice/screen/choice": Example(
        "/twilio/voice/screen/choice",
        _CALL | {"To": "{mobile}", "Digits": "1", "CallStatus": "in-progress"},
        numbers=("From", "To"),
        texts=("Digits",),
    ),
    "/twilio/voice/dial": Example(
        "/twilio/voice/dial?recruiter={recruiter}",
        _CALL
        | {
            "To": "{line}",
            "CallStatus": "in-progress",
            "Direction": "inbound",
            "DialCallStatus": "no-answer",
            "DialBridged": "false",
            "CallerName": "Ada",
        },
        required=("CallSid", "DialBridged"),
        numbers=("From", "To"),
        texts=("CallerName",),
        query_ids=("recruiter",),
    ),
    "/twilio/voice/recorded": Example(
        "/twilio/voice/recorded",
        _CALL
        | {
            "To": "{line}",
            "RecordingSid": "RE" + "2" * 32,
            "RecordingDuration": "9",
            "Digits": "hangup",
        },
        numbers=("From", "To"),
    ),
    "/twilio/voice/recording": Example(
        "/twilio/voice/recording",
        {
            "AccountSid": "AC" + "f" * 32,
            "CallSid": CALL_SID,
            "RecordingSid": "RE" + "2" * 32,
            "RecordingStatus": "completed",
            "RecordingUrl": "https://api.twilio.com/2010-04-01/Recordings/RE2",
            "RecordingDuration": "9",
            "RecordingChannels": "1",
            "RecordingSource": "RecordVerb",
        },
        required=("CallSid", "RecordingSid", "RecordingStatus"),
    ),
    "/twilio/voice/transcription": Example(
        "/twilio/voice/transcription",
        {
            "AccountSid": "AC" + "f" * 32,
            "CallSid": CALL_SID,
            "RecordingSid": "RE" + "2" * 32,
            "TranscriptionSid": "TR" + "3" * 32,
            "TranscriptionStatus": "completed",
            "TranscriptionText": "Hi, it's Ada about the role.",
            "RecordingUrl": "https://api.twilio.com/2010-04-01/Recordings/RE2",
        },
        required=("CallSid", "RecordingSid", "TranscriptionStatus"),
        texts=("TranscriptionText",),
    ),
    "/twilio/voice/status": Example(
        "/twilio/voice/status",
        _CALL
        | {
            "To": "{line}",
            "CallStatus": "no-answer",
            "Direction": "inbound",
            "SequenceNumber": "2",
            "CallDuration": "0",
            "CallerName": "Ada",
        },
        required=("CallSid", "CallStatus"),
        numbers=("From", "To"),
        texts=("CallerName",),
    ),
    "/twilio/voice/fallback": Example(
        "/twilio/voice/fallback",
        _CALL
        | {
            "To": "{line}",
            "CallStatus": "ringing",
            "ErrorCode": "11200",
            "ErrorUrl": "https://callpledge.example.com/twilio/voice/incoming",
        },
        numbers=("From", "To"),
    ),
    "/twilio/voice/outbound": Example(
        "/twilio/voice/outbound",
        _CALL
        | {
            "From": f"client:{IDENTITY}",
            "Caller": f"client:{IDENTITY}",
            "To": CALLER,
            "CallStatus": "ringing",
            "Direction": "inbound",
        },
        required=("CallSid",),
        numbers=("From", "To"),
    ),
    "/twilio/voice/connect": Example(
        "/twilio/voice/connect?outbox={call}",
        _PLACED_CALL,
        numbers=("From", "To"),
        query_ids=("outbox",),
    ),
    "/twilio/voice/connect/choice": Example(
        "/twilio/voice/connect/choice?outbox={call}",
        _PLACED_CALL | {"Digits": "1"},
        numbers=("From", "To"),
        texts=("Digits",),
        query_ids=("outbox",),
    ),
    "/twilio/voice/callback": Example(
        "/twilio/voice/callback?obligation={obligation}",
        _PLACED_CALL
        | {
            "DialCallSid": "CA" + "5" * 32,
            # An attempt, so every delivery takes the whole path (a close would end it).
            "DialCallStatus": "no-answer",
            "DialCallDuration": "0",
            "DialBridged": "false",
        },
        required=("CallSid", "DialCallStatus"),
        numbers=("From", "To"),
        query_ids=("obligation",),
        query_optional=True,
    ),
    "/twilio/sms/incoming": Example(
        "/twilio/sms/incoming",
        {
            "AccountSid": "AC" + "f" * 32,
            "ApiVersion": "2010-04-01",
            "MessageSid": "SM" + "6" * 32,
            "SmsSid": "SM" + "6" * 32,
            "SmsStatus": "received",
            "From": "{mobile}",
            "To": "{line}",
            "Body": "LIST",
            "NumMedia": "0",
            "NumSegments": "1",
        },
        required=("MessageSid",),
        numbers=("From", "To"),
        texts=("Body",),
    ),
    "/twilio/sms/status": Example(
        "/twilio/sms/status?outbox={outbox}",
        {
            "AccountSid": "AC" + "f" * 32,
            "MessageSid": "SM" + "4" * 32,
            "MessageStatus": "delivered",
            "To": "{mobile}",
            "From": "{line}",
        },
        required=("MessageSid", "MessageStatus"),
        numbers=("From", "To"),
        query_ids=("outbox",),
        query_optional=True,
    ),
}


def registered_twilio_routes() -> list[str]:
    """Every /twilio/* path the service registers (built without starting anything)."""
    app = create_app(Settings(_env_file=None))  # type: ignore[call-arg]
    return sorted(
        {
            str(context.path)
            for context in iter_route_contexts(app.routes)
            if isinstance(context.original_route, APIRoute)
            and str(context.path).startswith("/twilio/")
        }
    )


@dataclass(frozen=True)
class Ids:
    """The rows a test's webhooks refer to: a recruiter, their open obligation, an SMS
    sent to them (`outbox`) and a click-to-call placed for the obligation (`call`)."""

    recruiter: int
    obligation: int
    outbox: int
    call: int
    line: str
    mobile: str

    def fill(self, example: Example) -> tuple[str, dict[str, str]]:
        """The example's path and params for these rows."""
        names = {"line": self.line, "mobile": self.mobile}
        params = {
            k: v.format(**names) if v.startswith("{") else v for k, v in example.params.items()
        }
        path = example.url(
            recruiter=self.recruiter, obligation=self.obligation, outbox=self.outbox, call=self.call
        )
        return path, params


def seed(db: TestDatabase) -> Ids:
    """A recruiter (softphone `client:alice`) with an open obligation, its logged call, a
    nudge sent about it and a click-to-call placed for it: what the examples refer to."""
    recruiter = make_recruiter(db, client_identity=IDENTITY)
    obligation = make_obligation(recruiter)
    db.add(obligation)
    db.add(make_call(recruiter, CALL_SID, obligation_id=obligation.id))
    nudge = _sent(recruiter, OutboxKind.SMS, "nudge", body="You missed a call")
    call = _sent(recruiter, OutboxKind.CALL, CLICK_TO_CALL, call_target=obligation.caller)
    db.add(nudge)
    db.add(call)
    db.add(OutboxObligation(outbox_id=call.id, obligation_id=obligation.id))
    return Ids(recruiter.id, obligation.id, nudge.id, call.id, recruiter.line, recruiter.mobile)


def _sent(recruiter: Recruiter, kind: OutboxKind, purpose: str, **fields: Any) -> OutboxItem:
    return OutboxItem(
        kind=kind,
        purpose=purpose,
        idempotency_key=f"drill:{purpose}:{recruiter.id}",
        recruiter_id=recruiter.id,
        to_number=recruiter.mobile,
        from_number=recruiter.line,
        status=OutboxStatus.SENT,
        attempts=1,
        next_attempt_at=T0,
        created_at=T0,
        updated_at=T0,
        **fields,
    )


def snapshot(connection: Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, so a test can tell that a request wrote nothing."""
    rows = {
        table.name: [
            tuple(row)
            for row in connection.execute(select(table).order_by(*table.primary_key.columns))
        ]
        for table in Base.metadata.sorted_tables
    }
    connection.rollback()  # hold no snapshot or lock between requests
    return rows


def assert_error_shape(response: httpx.Response) -> dict[str, Any]:
    """A JSON `{"error", "detail"}` body, never a traceback or an HTML page."""
    assert response.headers["content-type"].startswith("application/json"), response.text[:300]
    body: dict[str, Any] = response.json()
    assert set(body) == {"error", "detail"}, body
    assert "Traceback" not in response.text
    return body


def assert_twiml(response: httpx.Response) -> ET.Element:
    """A TwiML document Twilio can parse: well-formed XML whose root is `<Response>`."""
    try:
        document = ET.fromstring(response.content)
    except ET.ParseError as error:
        raise AssertionError(f"not well-formed TwiML ({error}): {response.text[:300]!r}") from None
    assert document.tag == "Response", response.text[:300]
    return document
