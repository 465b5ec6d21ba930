"""A valid webhook for every /twilio/* route, the routes the app registers, and a way to
see that a request wrote nothing at all."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import Connection, select

from app.config import Settings
from app.main import create_app
from app.models import Base

CALL_SID = "CA" + "1" * 32
CALLER = "+447700900123"
E164 = re.compile(r"\+[1-9][0-9]{1,19}")


@dataclass(frozen=True)
class Example:
    """A webhook Twilio would send to `path` (`{recruiter}`/`{outbox}` filled in per test)."""

    path: str
    params: dict[str, str]
    required: tuple[str, ...] = ()  # form fields whose absence is a 422 naming them
    numbers: tuple[str, ...] = ()  # fields that hold phone numbers
    texts: tuple[str, ...] = ()  # free text: names, transcripts, message bodies

    def url(self, **ids: int) -> str:
        return self.path.format(**ids)


_CALL = {
    "AccountSid": "AC" + "f" * 32,
    "CallSid": CALL_SID,
    "From": CALLER,
    "ApiVersion": "2010-04-01",
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
    # Until issue 5 adds /twilio/sms/incoming, the SMS text cases ride on the delivery
    # report (its Body is signed but unused): extend them to the commands' route then.
    "/twilio/sms/status": Example(
        "/twilio/sms/status?outbox={outbox}",
        {
            "AccountSid": "AC" + "f" * 32,
            "MessageSid": "SM" + "4" * 32,
            "MessageStatus": "delivered",
            "To": "{mobile}",
            "From": "{line}",
            "Body": "DONE 1",
        },
        required=("MessageSid", "MessageStatus"),
        numbers=("From", "To"),
        texts=("Body",),
    ),
}


def registered_twilio_routes() -> list[str]:
    """Every /twilio/* path the service registers (built without starting anything)."""
    app = create_app(Settings(_env_file=None, database_url="sqlite://"))  # type: ignore[call-arg]
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
    """The rows a test's webhooks refer to."""

    recruiter: int
    outbox: int
    line: str
    mobile: str

    def fill(self, example: Example) -> tuple[str, dict[str, str]]:
        """The example's path and params for these rows."""
        names = {"line": self.line, "mobile": self.mobile}
        params = {
            k: v.format(**names) if v.startswith("{") else v for k, v in example.params.items()
        }
        return example.url(recruiter=self.recruiter, outbox=self.outbox), params


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
