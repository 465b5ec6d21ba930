"""A fake Twilio REST API: a real HTTP server on loopback, with failures on demand.

It serves the 2010-04-01 paths the service uses (Messages, Calls, Recordings and their
Transcriptions, IncomingPhoneNumbers, Applications) with Twilio's JSON shapes, filters and
`next_page_uri` paging, DELETE of a record (Recordings), checks HTTP basic auth, records
every request, and can fail the next requests with a status and Twilio error code, drop
the connection (before or after carrying the request out), stall a request until
released, or go down entirely (connection refused) and come back on the same port.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.support.loopback import serve_on_loopback, stop_serving

API = "/2010-04-01"
_COLLECTIONS = {
    "Messages": ("SM", "messages"),
    "Calls": ("CA", "calls"),
    "Recordings": ("RE", "recordings"),
    "IncomingPhoneNumbers": ("PN", "incoming_phone_numbers"),
    "Applications": ("AP", "applications"),
    "Transcriptions": ("TR", "transcriptions"),
}
# Lists under one record (`Recordings/RE…/Transcriptions.json`): the field naming the parent.
_NESTED = {("Recordings", "Transcriptions"): "recording_sid"}
# Twilio's resource fields that a create or update request may set, by form name.
_WRITABLE = {
    "Messages": {"To", "From", "Body", "MessagingServiceSid", "StatusCallback"},
    "Calls": {
        "To",
        "From",
        "Url",
        "Twiml",
        "StatusCallback",
        "StatusCallbackMethod",
        "StatusCallbackEvent",
        "Timeout",
        "Method",
    },
    "IncomingPhoneNumbers": {
        "VoiceUrl",
        "VoiceMethod",
        "VoiceFallbackUrl",
        "VoiceFallbackMethod",
        "StatusCallback",
        "StatusCallbackMethod",
        "SmsUrl",
        "SmsMethod",
        "FriendlyName",
        "VoiceApplicationSid",
        "SmsApplicationSid",
    },
    "Applications": {
        "FriendlyName",
        "VoiceUrl",
        "VoiceMethod",
        "StatusCallback",
        "StatusCallbackMethod",
        "VoiceFallbackUrl",
    },
}
_ERROR_MESSAGES = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: "Internal Server Error",
    21205: "Url parameter is required.",
    21211: "The 'To' number is not a valid phone number.",
    21602: "Message body is required.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@dataclass
class Recorded:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]
    authorized: bool

    def value(self, name: str) -> str | None:
        values = self.form.get(name) or self.query.get(name)
        return values[0] if values else None


@dataclass
class Failure:
    """What to do instead of answering a matching request."""

    status: int = 500
    code: int | None = None
    drop: bool = False  # close the connection without an answer
    # Carry the request out first (Twilio took it); the answer is normal unless dropped.
    accept: bool = False
    stall: bool = False  # then hold the answer until `release()` (or `stall_seconds`)
    method: str | None = None
    path_contains: str | None = None
    to: str | None = None

    def matches(self, method: str, path: str, form: dict[str, list[str]]) -> bool:
        return (
            (self.method is None or self.method == method)
            and (self.path_contains is None or self.path_contains in path)
            and (self.to is None or form.get("To", [None])[0] == self.to)
        )


@dataclass
class FakeTwilio:
    """State and controls of the fake; the HTTP server runs in a daemon thread."""

    account_sid: str = "AC" + "f" * 32
    auth_token: str = "fake-auth-token"
    port: int = 0
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    records: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    # A number in here fails every message sent to it with that error code (e.g. 21610).
    refused_numbers: dict[str, int] = field(default_factory=dict)
    page_size_default: int = 50
    stall_seconds: float = 30.0
    _server: ThreadingHTTPServer | None = None
    _released: threading.Event = field(default_factory=threading.Event)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _counter: Iterator[int] = field(default_factory=itertools.count)

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> FakeTwilio:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = serve_on_loopback(handler, self.port)
        self.port = self._server.server_address[1]
        return self

    def stop(self) -> None:
        stop_serving(self._server)
        self._server = None

    def down(self) -> None:
        """Stop listening: clients get connection refused until `up()`."""
        self.stop()

    def up(self) -> None:
        if self._server is None:
            self.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self) -> None:
        self.release()
        with self._lock:
            self.records.clear()
            self.requests.clear()
            self.failures.clear()
            self.refused_numbers.clear()

    # -- controls -------------------------------------------------------------------------

    def fail_next(self, times: int = 1, **failure: Any) -> None:
        """Answer the next `times` matching requests with `Failure(**failure)`."""
        with self._lock:
            self.failures.extend(Failure(**failure) for _ in range(times))

    def stall_next(self, times: int = 1, **failure: Any) -> None:
        """Carry out the next `times` matching requests but hold their answers until
        `release()`."""
        self.fail_next(times, stall=True, accept=True, **failure)

    def release(self) -> None:
        """Let every stalled answer go."""
        with self._lock:
            self._released.set()
            self._released = threading.Event()

    def refuse(self, number: str, code: int = 21610) -> None:
        self.refused_numbers[number] = code

    def add(self, collection: str, **fields: Any) -> dict[str, Any]:
        """Put a record straight into the fake's account (a line, a past call, a recording)."""
        with self._lock:
            return self._create(collection, {k: v for k, v in fields.items()}, raw=True)

    def all(self, collection: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.records.get(collection, {}).values())

    def deletions(self, collection: str) -> list[str]:
        """SIDs in `collection` (e.g. Recordings) that the service asked to DELETE."""
        with self._lock:
            return [
                r.path.rsplit("/", 1)[-1].removesuffix(".json")
                for r in self.requests
                if r.method == "DELETE" and f"/{collection}/" in r.path
            ]

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.all("Messages")

    @property
    def calls(self) -> list[dict[str, Any]]:
        return self.all("Calls")

    def set_status(self, collection: str, sid: str, status: str, **fields: Any) -> None:
        with self._lock:
            record = self.records[collection][sid]
            record["status"] = status
            record.update(fields)
            if collection == "Messages" and status in {"sent", "delivered"}:
                record["date_sent"] = record["date_sent"] or format_datetime(self.now())

    def recording_audio(self, path: str) -> bytes | None:
        """The stand-in audio of `Recordings/RE….mp3`, if that recording was added."""
        prefix = f"{API}/Accounts/{self.account_sid}/Recordings/"
        sid = path.removeprefix(prefix).removesuffix(".mp3")
        with self._lock:
            known = path.startswith(prefix) and sid in self.records.get("Recordings", {})
        return b"ID3 fake audio of " + sid.encode() if known else None

    # -- request handling -----------------------------------------------------------------

    def _handle(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        form: dict[str, list[str]],
        authorized: bool,
    ) -> tuple[int, dict[str, Any]] | None:
        with self._lock:
            self.requests.append(Recorded(method, path, query, form, authorized))
            failure = next((f for f in self.failures if f.matches(method, path, form)), None)
            if failure is not None:
                self.failures.remove(failure)
            answer = None
            if failure is None or failure.accept:
                answer = self._route(method, path, query, form) if authorized else None
                answer = answer or (401, _error(401, 20003))
            released = self._released
        if failure is None:
            return answer
        if failure.stall:
            released.wait(self.stall_seconds)
        if failure.drop:
            return None
        return answer if failure.accept else (failure.status, _error(failure.status, failure.code))

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], form: dict[str, list[str]]
    ) -> tuple[int, dict[str, Any]]:
        prefix = f"{API}/Accounts/{self.account_sid}/"
        if not path.startswith(prefix) or not path.endswith(".json"):
            return 404, _error(404, 20404)
        parts = path[len(prefix) : -len(".json")].split("/")
        collection = parts[0]
        if len(parts) == 3 and (collection, parts[2]) in _NESTED and method == "GET":
            parent = {_NESTED[collection, parts[2]]: parts[1]}
            return 200, self._list(parts[2], query, parent, base=path)
        if collection not in _COLLECTIONS or len(parts) > 2:
            return 404, _error(404, 20404)
        fields = {name: values[0] for name, values in form.items()}
        if len(parts) == 1 and method == "GET":
            return 200, self._list(collection, query)
        if len(parts) == 1 and method == "POST":
            return self._create_checked(collection, fields)
        record = self.records.get(collection, {}).get(parts[1])
        if record is None:
            return 404, _error(404, 20404)
        if method == "POST":
            record.update({_snake(k): v for k, v in fields.items() if k in _WRITABLE[collection]})
            return 200, record
        if method == "DELETE":
            del self.records[collection][parts[1]]
            return 204, {}
        return 200, record

    def _create_checked(
        self, collection: str, fields: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        if collection == "Messages":
            if not fields.get("To") or not (
                fields.get("From") or fields.get("MessagingServiceSid")
            ):
                return 400, _error(400, 21604)
            if not fields.get("Body"):
                return 400, _error(400, 21602)
            if (code := self.refused_numbers.get(fields["To"])) is not None:
                return 400, _error(400, code)
        if collection == "Calls" and not (fields.get("Url") or fields.get("Twiml")):
            return 400, _error(400, 21205)
        return 201, self._create(collection, fields)

    def _create(self, collection: str, fields: dict[str, Any], raw: bool = False) -> dict[str, Any]:
        prefix, _ = _COLLECTIONS[collection]
        sid = fields.pop("sid", None) or prefix + secrets.token_hex(16)
        created = fields.pop("date_created", None) or format_datetime(self.now())
        record: dict[str, Any] = {
            "sid": sid,
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "date_created": created,
            "date_updated": created,
            "uri": f"{API}/Accounts/{self.account_sid}/{collection}/{sid}.json",
        }
        if collection == "Messages":
            record |= {
                "status": "queued",
                "date_sent": None,
                "direction": "outbound-api",
                "error_code": None,
                "error_message": None,
                "num_segments": "1",
                "messaging_service_sid": None,
                "price": None,
                "num_media": "0",
            }
        if collection == "Calls":
            record |= {
                "status": "queued",
                "direction": "outbound-api",
                "parent_call_sid": None,
                "duration": None,
                "start_time": None,
                "end_time": None,
            }
        record |= fields if raw else {_snake(k): v for k, v in fields.items()}
        record["_seq"] = next(self._counter)
        self.records.setdefault(collection, {})[sid] = record
        return record

    def _list(
        self,
        collection: str,
        query: dict[str, list[str]],
        parent: dict[str, str] | None = None,
        base: str | None = None,
    ) -> dict[str, Any]:
        items = sorted(
            self.records.get(collection, {}).values(), key=lambda r: r["_seq"], reverse=True
        )
        items = [item for item in items if _passes(item, query)]
        items = [i for i in items if all(i.get(k) == v for k, v in (parent or {}).items())]
        size = int(query.get("PageSize", [str(self.page_size_default)])[0])
        page = int(query.get("Page", ["0"])[0])
        chunk = items[page * size : (page + 1) * size]
        _, key = _COLLECTIONS[collection]
        base = base or f"{API}/Accounts/{self.account_sid}/{collection}.json"
        kept = {k: v[0] for k, v in query.items() if k not in {"Page", "PageToken"}}
        next_uri = None
        if (page + 1) * size < len(items):
            next_uri = (
                f"{base}?{urlencode(kept | {'Page': page + 1, 'PageToken': f'PA{page + 1}'})}"
            )
        return {
            key: [{k: v for k, v in item.items() if not k.startswith("_")} for item in chunk],
            "page": page,
            "page_size": size,
            "start": page * size,
            "end": page * size + max(len(chunk) - 1, 0),
            "uri": f"{base}?{urlencode(kept | {'Page': page})}",
            "first_page_uri": f"{base}?{urlencode(kept | {'Page': 0})}",
            "previous_page_uri": None,
            "next_page_uri": next_uri,
        }


_FILTERS: dict[str, tuple[str, str]] = {
    # query name: (record field, comparison)
    "To": ("to", "eq"),
    "From": ("from", "eq"),
    "Status": ("status", "eq"),
    "ParentCallSid": ("parent_call_sid", "eq"),
    "CallSid": ("call_sid", "eq"),
    "PhoneNumber": ("phone_number", "digits"),  # Twilio matches partial numbers
    "FriendlyName": ("friendly_name", "eq"),
    "DateSent": ("date_sent", "date"),
    "DateSent<": ("date_sent", "date<="),
    "DateSent>": ("date_sent", "date>="),
    "StartTime": ("start_time", "date"),
    "StartTime<": ("start_time", "date<="),
    "StartTime>": ("start_time", "date>="),
    "DateCreated": ("date_created", "date"),
    "DateCreated<": ("date_created", "date<="),
    "DateCreated>": ("date_created", "date>="),
}


def _passes(item: dict[str, Any], query: dict[str, list[str]]) -> bool:
    for name, values in query.items():
        if name not in _FILTERS:
            continue
        field_name, comparison = _FILTERS[name]
        wanted, actual = values[0], item.get(field_name)
        if comparison == "eq":
            if actual != wanted:
                return False
            continue
        if comparison == "digits":
            if _digits(wanted) not in _digits(actual or ""):
                return False
            continue
        if actual is None:
            return False  # a queued message has no date_sent, so no date filter matches it
        day = parsedate_to_datetime(actual).astimezone(UTC).date()
        bound = date.fromisoformat(wanted[:10])
        if (
            (comparison == "date" and day != bound)
            or (comparison == "date<=" and day > bound)
            or (comparison == "date>=" and day < bound)
        ):
            return False
    return True


def _digits(number: str) -> str:
    return re.sub(r"\D", "", number)


def _error(status: int, code: int | None) -> dict[str, Any]:
    code = code or {401: 20003, 404: 20404, 429: 20429}.get(status, 20500)
    return {
        "code": code,
        "message": _ERROR_MESSAGES.get(code, "Error"),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class _Handler(BaseHTTPRequestHandler):
    fake: FakeTwilio
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, each answer waits ~40 ms for
    # the client's delayed ACK.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        pass

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        self._serve("POST")

    def do_DELETE(self) -> None:  # noqa: N802 - stdlib name
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        url = urlsplit(self.path)
        if method == "GET" and url.path.endswith(".mp3"):
            self._send_audio(url.path)
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        form = parse_qs(body, keep_blank_values=True)
        query = parse_qs(url.query, keep_blank_values=True)
        answer = self.fake._handle(method, url.path, query, form, self._authorized())
        if answer is None:
            self.close_connection = True
            self.connection.close()
            return
        status, payload = answer
        data = json.dumps(payload).encode() if status != 204 else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send_audio(self, path: str) -> None:
        """A recording's media: a few stand-in bytes for a recording the fake knows of."""
        audio = self.fake.recording_audio(path) if self._authorized() else None
        data = audio or json.dumps(_error(404, 20404)).encode()
        self.send_response(200 if audio else 404)
        self.send_header("Content-Type", "audio/mpeg" if audio else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorized(self) -> bool:
        expected = f"{self.fake.account_sid}:{self.fake.auth_token}".encode()
        given = self.headers.get("Authorization", "")
        return given == "Basic " + base64.b64encode(expected).decode()
