"""`callpledge simulate …` against a live service: what Twilio would send, and what came of it."""

import socket
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from app.config import Settings
from app.main import create_app
from app.models import Call, CloseReason, Obligation, ObligationStatus, Voicemail
from app.simulator import scenarios
from app.simulator.service_view import ApiView
from tests.cli.conftest import Run
from tests.support.databases import TestDatabase
from tests.support.factories import T0, make_call, make_obligation, make_recruiter
from tests.support.fake_twilio import FakeTwilio
from tests.support.live import LiveServer

CALLER = "+447700900123"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"reminder_schedule": "1s"}


def test_a_missed_call_becomes_an_obligation_and_its_nudge_is_shown(
    callpledge: Run, service: LiveServer, db: TestDatabase, fake_twilio: FakeTwilio
) -> None:
    recruiter = make_recruiter(db)
    result = callpledge(
        "simulate", "missed-call", "--from", CALLER, "--to", recruiter.line,
        "--voicemail", "Hi, it's Sam about the Berlin role", "--name", "Sam", "--wait",
        "--url", service.url,
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    obligation = db.one(Obligation)
    assert (obligation.caller, obligation.status) == (CALLER, ObligationStatus.OPEN)
    assert db.one(Voicemail).transcript == "Hi, it's Sam about the Berlin role"
    assert f"Obligation #{obligation.id} is OPEN: call back +44 7700 900123" in result.output
    assert "POST /twilio/voice/dial" in result.output and "Say Record" in result.output
    (sms,) = fake_twilio.messages
    assert sms["to"] == recruiter.mobile and f"#{obligation.id}" in sms["body"]
    assert "SMS to +1 415-555-" in result.output
    assert f"  | {sms['body'].splitlines()[0]}" in result.output


def test_through_the_ops_api_the_obligation_shows_but_not_the_sms_text(
    callpledge: Run, service: LiveServer, db: TestDatabase, tmp_path: Path
) -> None:
    recruiter = make_recruiter(db)
    token = callpledge("token", "create", "--name", "demo").stdout.strip()
    no_database = {"DATABASE_URL": f"sqlite:///{tmp_path / 'elsewhere.db'}"}

    result = callpledge(
        "simulate", "missed-call", "--from", CALLER, "--to", recruiter.line, "--wait",
        "--url", service.url, "--token", token, env=no_database,
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    obligation = db.one(Obligation)
    assert f"Obligation #{obligation.id} is OPEN" in result.output
    assert "Nudge 1 sent (its text is in the service's console or log)" in result.output
    assert not (tmp_path / "elsewhere.db").exists()


def test_a_refused_token_is_said_plainly(
    callpledge: Run, live_server: LiveServer, db: TestDatabase
) -> None:
    recruiter = make_recruiter(db)
    result = callpledge(
        "simulate", "missed-call", "--from", CALLER, "--to", recruiter.line,
        "--url", live_server.url, "--token", "not-a-token",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "the ops API refused the request" in result.stderr


def test_answered_call_closes_the_callers_open_obligation(
    callpledge: Run, live_server: LiveServer, db: TestDatabase
) -> None:
    recruiter = make_recruiter(db)
    db.add(make_obligation(recruiter, caller=CALLER))

    result = callpledge(
        "simulate", "answered-call", "--from", CALLER, "--to", recruiter.line,
        "--url", live_server.url,
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "the recruiter pressed 1: the call is connected" in result.output
    assert db.one(Obligation).close_reason is CloseReason.ANSWERED
    assert "is CLOSED (answered)" in result.output


def test_answered_call_with_nothing_open_says_there_was_nothing_to_close(
    callpledge: Run, live_server: LiveServer, db: TestDatabase
) -> None:
    recruiter = make_recruiter(db)
    db.add(
        make_obligation(
            recruiter,
            caller=CALLER,
            status=ObligationStatus.CLOSED,
            closed_at=T0,
            close_reason=CloseReason.CALLBACK,
        )
    )

    result = callpledge(
        "simulate", "answered-call", "--from", CALLER, "--to", recruiter.line,
        "--url", live_server.url,
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "No obligation for +44 7700 900123 was open: there was none to close." in result.output
    assert "CLOSED" not in result.output
    assert db.one(Obligation).close_reason is CloseReason.CALLBACK


async def test_the_ops_api_view_finds_a_call_beyond_the_first_page(
    db: TestDatabase, settings: Settings, clock: Any
) -> None:
    """`simulate` on a busy line: the call it made is not among the newest 200."""
    recruiter = make_recruiter(db)
    db.add(make_obligation(recruiter, caller=CALLER))
    db.add(make_call(recruiter, "CA-simulated", obligation_id=1, started_at=T0))
    db.add(
        *[
            make_call(recruiter, f"CA{n:04d}", started_at=T0 + timedelta(minutes=n))
            for n in range(1, 251)
        ]
    )
    token = "tools-tests-token-of-enough-length"
    app = create_app(settings.model_copy(update={"api_tokens": [SecretStr(token)]}), clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", headers=headers
        ) as http:
            view = ApiView(http)
            found = await view.of_call(line=recruiter.line, call_sid="CA-simulated")
            unknown = await view.of_call(line=recruiter.line, call_sid="CA-never")
    assert found is not None and (found.id, found.caller) == (1, CALLER)
    assert unknown is None


def test_callback_reports_an_outbound_call_from_the_line_to_the_status_callback(
    callpledge: Run, live_server: LiveServer, db: TestDatabase
) -> None:
    recruiter = make_recruiter(db)
    result = callpledge(
        "simulate", "callback", "--from", recruiter.line, "--to", CALLER, "--url", live_server.url
    )
    assert result.exit_code == 0, result.output
    call = db.one(Call)
    assert (call.direction, call.from_number, call.to_number, call.status) == (
        "outbound-api",
        recruiter.line,
        CALLER,
        "completed",
    )
    assert "No obligation for this number on that line" in result.output


def test_a_completed_callback_closes_the_obligation(
    callpledge: Run, live_server: LiveServer, db: TestDatabase
) -> None:
    recruiter = make_recruiter(db)
    db.add(make_obligation(recruiter, caller=CALLER))
    result = callpledge(
        "simulate", "callback", "--from", recruiter.line, "--to", CALLER, "--url", live_server.url
    )
    assert result.exit_code == 0, result.output
    assert db.one(Obligation).close_reason is CloseReason.CALLBACK
    assert "is now CLOSED (callback)" in result.output


def test_an_unanswered_callback_is_an_attempt_and_the_obligation_stays_open(
    callpledge: Run, live_server: LiveServer, db: TestDatabase
) -> None:
    recruiter = make_recruiter(db)
    db.add(make_obligation(recruiter, caller=CALLER))
    result = callpledge(
        "simulate", "callback", "--from", recruiter.line, "--to", CALLER, "--status", "no-answer",
        "--url", live_server.url,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    obligation = db.one(Obligation)
    assert (obligation.status, obligation.callback_attempts) == (ObligationStatus.OPEN, 1)
    assert "stays OPEN: the attempt is on its timeline" in result.output


def test_sms_reply_done_closes_the_obligation_and_shows_the_reply(
    callpledge: Run, live_server: LiveServer, db: TestDatabase
) -> None:
    recruiter = make_recruiter(db)
    obligation = make_obligation(recruiter, caller=CALLER)
    db.add(obligation)
    result = callpledge(
        "simulate", "sms-reply", f"DONE {obligation.id}", "--from", recruiter.mobile,
        "--to", recruiter.line, "--url", live_server.url,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert db.one(Obligation).close_reason is CloseReason.RECRUITER
    assert "The service replies by SMS:" in result.output
    assert f"Obligation #{obligation.id} is CLOSED (recruiter)" in result.output


def test_a_signature_the_service_refuses_is_explained(
    callpledge: Run, live_server: LiveServer, db: TestDatabase
) -> None:
    recruiter = make_recruiter(db)
    result = callpledge(
        "simulate", "missed-call", "--from", CALLER, "--to", recruiter.line,
        "--url", live_server.url, env={"TWILIO_AUTH_TOKEN": "another-token"},
    )  # fmt: skip
    assert result.exit_code == 1
    assert "refused the signature" in result.stderr
    assert db.count(Obligation) == 0


def test_a_line_nobody_has_is_explained(callpledge: Run, live_server: LiveServer) -> None:
    result = callpledge(
        "simulate", "missed-call", "--from", CALLER, "--to", "+15017770006",
        "--url", live_server.url,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "not in service" in result.output
    assert "No active recruiter has the line +15017770006: add one with" in result.output


def test_nothing_listening_and_bad_numbers_are_one_line_errors(callpledge: Run) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    silent = callpledge("simulate", "missed-call", "--from", CALLER, "--to", "+15005550006",
                        "--url", closed)  # fmt: skip
    assert silent.exit_code == 1 and "nothing answers at" in silent.stderr
    bad = callpledge("simulate", "missed-call", "--from", "12", "--to", "+15005550006")
    assert bad.exit_code == 2 and "--from" in bad.stderr


@pytest.mark.parametrize(
    ("body", "mentioned"),
    [
        ("DONE 3", 3),
        (" snooze #3 2h ", 3),
        ("Done12.", 12),
        ("call 7", 7),
        ("LIST", None),
        ("hello 3", None),
        ("DONE 99999999999999999999", None),
    ],
)
def test_the_obligation_a_text_mentions_is_the_one_the_service_reads(
    body: str, mentioned: int | None
) -> None:
    assert scenarios.obligation_mentioned(body) == mentioned
