"""PostgreSQL stopped and started again under a stream of webhooks (a private server:
the machine's shared one is never touched).

Every webhook answered 2xx is in the database afterwards; the rest got a 503 `unavailable`
(which Twilio retries, through the connection overrides `twilio setup` configures), and
nothing hung; the fallback URL answered with a voicemail `<Record>` all along; and the
service came back by itself, without a restart.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from app.config import Settings
from app.main import create_app
from app.migrate import upgrade
from app.models import Call, Obligation, Recruiter, Voicemail
from app.twilio import twiml
from tests.conftest import PUBLIC_BASE_URL
from tests.support.databases import TestDatabase
from tests.support.factories import make_recruiter
from tests.support.live import LiveServer
from tests.support.private_postgres import PrivatePostgres
from tests.support.signer import TwilioSigner

pytestmark = pytest.mark.slow

AUTH_TOKEN = "drill-auth-token"
SENDERS = 4
BEFORE, OUTAGE, AFTER = 1.0, 3.0, 1.5  # seconds of stream around the outage
TIMEOUT = 10.0  # a request that takes longer has hung
_sequence = itertools.count(1)


@dataclass
class Sent:
    """One webhook of the stream and what became of it."""

    kind: str
    path: str
    params: dict[str, str]
    started: float
    status: int = 0
    body: str = ""
    seconds: float = 0.0

    @property
    def sid(self) -> str:
        return self.params["RecordingSid" if self.kind == "recording" else "CallSid"]


@dataclass
class Timeline:
    stopping: float = 0.0
    stopped: float = 0.0
    starting: float = 0.0
    started: float = 0.0
    sent: list[Sent] = field(default_factory=list)
    fallback: list[tuple[float, int, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def webhook(kind: str, recruiter: Recruiter) -> tuple[str, dict[str, str]]:
    """A Dial-action miss from a new caller, a status callback, or a recording callback."""
    n = next(_sequence)
    call = {"CallSid": f"CA{n:032d}", "From": f"+4477009{n:05d}", "To": recruiter.line}
    if kind == "dial":
        miss = {"DialCallStatus": "no-answer", "DialBridged": "false", "CallStatus": "in-progress"}
        return f"{twiml.DIAL_RESULT}?recruiter={recruiter.id}", call | miss
    if kind == "status":
        status = {"CallStatus": "completed", "Direction": "inbound", "SequenceNumber": "3"}
        return twiml.STATUS, call | status | {"CallDuration": "31"}
    recording = {
        "RecordingSid": f"RE{n:032d}",
        "RecordingStatus": "completed",
        "RecordingUrl": f"https://api.twilio.com/Recordings/RE{n:032d}",
        "RecordingDuration": "12",
    }
    return twiml.RECORDING, {"CallSid": call["CallSid"]} | recording


def post(
    http: httpx.Client, signer: TwilioSigner, path: str, params: dict[str, str]
) -> httpx.Response:
    return http.post(path, data=params, headers=signer.headers(path, params))


@pytest.fixture
def outage_db(private_postgres: PrivatePostgres) -> Iterator[TestDatabase]:
    upgrade(private_postgres.url)
    database = TestDatabase("postgresql", private_postgres.url)
    yield database
    database.engine.dispose()


@pytest.fixture
def service(outage_db: TestDatabase) -> Iterator[LiveServer]:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=outage_db.url,
        public_base_url=PUBLIC_BASE_URL,
        twilio_account_sid="AC" + "d" * 32,
        twilio_auth_token=AUTH_TOKEN,
        sms_backend="console",
    )
    server = LiveServer(create_app(settings)).start()
    yield server
    server.stop()


def stream(
    url: str, signer: TwilioSigner, recruiter: Recruiter, timeline: Timeline, done: threading.Event
) -> None:
    with httpx.Client(base_url=url, timeout=TIMEOUT) as http:
        for kind in itertools.cycle(("dial", "status", "recording")):
            if done.is_set():
                return
            path, params = webhook(kind, recruiter)
            sent = Sent(kind, path, params, time.monotonic())
            try:
                response = post(http, signer, path, params)
                sent.status, sent.body = response.status_code, response.text
            except httpx.HTTPError as exc:  # a hang or a dropped connection: the test fails
                sent.body = repr(exc)
            sent.seconds = time.monotonic() - sent.started
            with timeline.lock:
                timeline.sent.append(sent)
            time.sleep(0.02)


def poll_fallback(
    url: str, signer: TwilioSigner, timeline: Timeline, done: threading.Event
) -> None:
    with httpx.Client(base_url=url, timeout=TIMEOUT) as http:
        while not done.is_set():
            params = {"CallSid": f"CA{next(_sequence):032d}", "ErrorCode": "11200"}
            response = post(http, signer, twiml.FALLBACK, params)
            timeline.fallback.append((time.monotonic(), response.status_code, response.text))
            time.sleep(0.05)


def run_outage(
    postgres: PrivatePostgres, service: LiveServer, signer: TwilioSigner, recruiter: Recruiter
) -> Timeline:
    timeline, done = Timeline(), threading.Event()
    workers = [
        threading.Thread(target=stream, args=(service.url, signer, recruiter, timeline, done))
        for _ in range(SENDERS)
    ]
    workers.append(
        threading.Thread(target=poll_fallback, args=(service.url, signer, timeline, done))
    )
    for worker in workers:
        worker.start()
    try:
        time.sleep(BEFORE)
        timeline.stopping = time.monotonic()
        postgres.stop()
        timeline.stopped = time.monotonic()
        time.sleep(OUTAGE)
        timeline.starting = time.monotonic()
        postgres.start()
        timeline.started = time.monotonic()
        time.sleep(AFTER)
    finally:
        done.set()
        for worker in workers:
            worker.join(TIMEOUT * 2)
    return timeline


def lost(db: TestDatabase, sent: list[Sent]) -> list[Sent]:
    """The webhooks whose effect is not in the database: a voicemail, a completed call,
    or a missed call counted on its caller's obligation."""
    voicemails = {v.recording_sid for v in db.all(Voicemail)}
    calls = {c.call_sid: c for c in db.all(Call)}
    callers = {o.caller for o in db.all(Obligation)}

    def kept(s: Sent) -> bool:
        if s.kind == "recording":
            return s.sid in voicemails
        call = calls.get(s.sid)
        if call is None:
            return False
        if s.kind == "status":
            return call.status == "completed"
        return call.missed_at is not None and s.params["From"] in callers

    return [s for s in sent if not kept(s)]


def test_a_postgres_outage_loses_no_answered_webhook_and_heals_without_a_restart(
    private_postgres: PrivatePostgres, outage_db: TestDatabase, service: LiveServer
) -> None:
    recruiter = make_recruiter(outage_db)
    signer = TwilioSigner(AUTH_TOKEN, PUBLIC_BASE_URL)

    timeline = run_outage(private_postgres, service, signer, recruiter)

    answered = [s for s in timeline.sent if 200 <= s.status < 300]
    refused = [s for s in timeline.sent if not 200 <= s.status < 300]
    during = [s for s in timeline.sent if timeline.stopping <= s.started < timeline.started]
    print(
        f"\n{len(timeline.sent)} webhooks, {len(during)} during the outage: "
        f"{len(answered)} 2xx, {len(refused)} refused "
        f"({sum(s.status == 503 for s in refused)} 503); "
        f"{len(timeline.fallback)} fallback answers; "
        f"slowest {max(s.seconds for s in timeline.sent):.2f} s"
    )
    assert refused, "the outage refused nothing: PostgreSQL was not really stopped"
    for sent in refused:
        assert sent.status == 503, (sent.kind, sent.status, sent.body[:300])
        assert httpx.Response(503, text=sent.body).json()["error"] == "unavailable"
        assert sent.started >= timeline.stopping - TIMEOUT
    assert max(s.seconds for s in timeline.sent) < TIMEOUT / 2
    missing = lost(outage_db, answered)
    assert missing == [], f"{len(missing)} answered webhooks were not persisted"

    in_outage = [f for f in timeline.fallback if timeline.stopped <= f[0] < timeline.starting]
    assert len(in_outage) >= 10, "the fallback was not asked during the outage"
    assert all(status == 200 and "<Record " in text for _, status, text in timeline.fallback)

    after = [s for s in timeline.sent if s.started >= timeline.started]
    assert after and all(200 <= s.status < 300 for s in after), "not recovered after the start"
    with httpx.Client(base_url=service.url, timeout=TIMEOUT) as http:
        assert http.get("/readyz").status_code == 200
        # Twilio retries what was refused; now every one of them lands.
        for sent in refused:
            assert 200 <= post(http, signer, sent.path, sent.params).status_code < 300
    assert lost(outage_db, timeline.sent) == []
    dialled = {s.params["From"] for s in timeline.sent if s.kind == "dial"}
    assert outage_db.count(Obligation) == len(dialled)
