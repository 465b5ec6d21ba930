"""Erasing a caller: afterwards no table names the number, recordings are deleted at
Twilio, and one `erased` audit line keeps the counts."""

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from app.care.loop import CareLoop
from app.clock import ManualClock
from app.models import (
    AuditEntry,
    Base,
    Obligation,
    ObligationStatus,
    RecordingDeletion,
    Recruiter,
    Voicemail,
    WebhookDelivery,
)
from app.outbox.worker import Worker
from app.runtime import Runtime
from app.simulator.exchange import CallScript
from app.simulator.recruiter import RecruiterPhone
from app.simulator.twilio import TwilioSimulator
from app.webhooks.loop import WebhookLoop
from tests.support.databases import TestDatabase
from tests.support.factories import T0
from tests.support.fake_twilio import FakeTwilio

CALLER = "+447700900123"
# How the number appears in texts: E.164, bare, international and national formats.
WRITTEN = ("7700900123", "7700 900123")
OTHER = "+447700900456"


def rows_naming(db: TestDatabase, texts: tuple[str, ...]) -> list[str]:
    """Every table, every row, every value: where any of `texts` still appears."""
    found = []
    with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(select(table)):
                text = " ".join(str(value) for value in row)
                found += [f"{table.name}: {text}" for t in texts if t in text]
    return found


async def a_caller_with_history(
    twilio: TwilioSimulator,
    phone: RecruiterPhone,
    recruiter: Recruiter,
    api: httpx.AsyncClient,
    runtime: Runtime,
    clock: ManualClock,
) -> None:
    """Calls, a voicemail, a repeat, a text, a nudge, a LIST reply and webhook deliveries."""
    await api.post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "event_types": ["obligation.opened"]},
    )
    await twilio.call(CallScript(caller=CALLER, line=recruiter.line, message="It is Sam"))
    await twilio.call(CallScript(caller=CALLER, line=recruiter.line))
    await twilio.call(CallScript(caller=OTHER, line=recruiter.line, message="Other one"))
    await phone.text(sender=CALLER, line=recruiter.line, body="Please call me back")
    clock.set(T0 + timedelta(minutes=3))
    await Worker(runtime, name="test-worker").run_once()
    await phone.text(sender=recruiter.mobile, line=recruiter.line, body="LIST")
    hooks = WebhookLoop(runtime, timeout=0.2)
    await hooks.run_once()  # fans out; nothing listens on port 9: the deliveries wait


@pytest.fixture
async def history(
    twilio: TwilioSimulator,
    phone: RecruiterPhone,
    recruiter: Recruiter,
    api: httpx.AsyncClient,
    runtime: Runtime,
    clock: ManualClock,
    db: TestDatabase,
) -> None:
    clock.set(T0)
    await a_caller_with_history(twilio, phone, recruiter, api, runtime, clock)
    assert rows_naming(db, WRITTEN)  # the scan sees the number before erasure
    assert db.all(WebhookDelivery)  # frozen bodies name the caller too


async def test_after_erasure_no_table_names_the_number(
    history: None, api: httpx.AsyncClient, db: TestDatabase
) -> None:
    response = await api.delete(f"/api/v1/callers/{CALLER}")
    assert response.status_code == 200
    counts = response.json()["counts"]
    assert counts["obligations"] == 1 and counts["calls"] >= 2 and counts["sms"] >= 1
    assert rows_naming(db, WRITTEN) == []
    erased, other = sorted(db.all(Obligation), key=lambda o: o.caller or "")
    assert erased.caller is None and erased.redacted_at is not None
    assert erased.status is ObligationStatus.CLOSED and erased.missed_calls == 2
    assert other.caller == OTHER and other.status is ObligationStatus.OPEN
    assert rows_naming(db, ("7700900456",))  # another caller's data is untouched


async def test_erasure_leaves_one_audit_line_with_counts_and_no_personal_data(
    history: None, api: httpx.AsyncClient, db: TestDatabase
) -> None:
    await api.delete("/api/v1/callers/07700 900123")  # any format, read in DEFAULT_REGION
    [line] = db.all(AuditEntry)
    assert line.action == "erased" and line.actor == "env-token-1"
    assert all(isinstance(count, int) for count in line.detail.values())
    assert not any(t in str(line.detail) for t in WRITTEN)


async def test_the_recordings_are_deleted_at_twilio_by_the_worker(
    history: None,
    api: httpx.AsyncClient,
    runtime: Runtime,
    fake_twilio: FakeTwilio,
    db: TestDatabase,
) -> None:
    voicemail = db.one(
        Voicemail, Voicemail.transcript.is_not(None), Voicemail.transcript.contains("Sam")
    )
    await api.delete(f"/api/v1/callers/{CALLER}")
    assert db.one(RecordingDeletion).deleted_at is None
    await CareLoop(runtime).run_once()
    assert fake_twilio.deletions("Recordings") == [voicemail.recording_sid]
    assert db.one(RecordingDeletion).deleted_at is not None
    await CareLoop(runtime).run_once()
    assert len(fake_twilio.deletions("Recordings")) == 1


async def test_a_recording_twilio_would_not_delete_is_tried_again(
    history: None,
    api: httpx.AsyncClient,
    runtime: Runtime,
    fake_twilio: FakeTwilio,
    db: TestDatabase,
) -> None:
    await api.delete(f"/api/v1/callers/{CALLER}")
    fake_twilio.fail_next(status=503, code=20500)
    await CareLoop(runtime).run_once()
    deletion = db.one(RecordingDeletion)
    assert deletion.deleted_at is None and deletion.error is not None and "503" in deletion.error
    await CareLoop(runtime).run_once()
    assert db.one(RecordingDeletion).deleted_at is not None


@pytest.mark.parametrize("number", ["not-a-number", "+44", "12"])
async def test_a_malformed_number_is_refused(api: httpx.AsyncClient, number: str) -> None:
    response = await api.delete(f"/api/v1/callers/{number}")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "number"]


async def test_erasing_a_number_never_seen_changes_nothing_but_the_audit(
    api: httpx.AsyncClient, db: TestDatabase
) -> None:
    response = await api.delete(f"/api/v1/callers/{CALLER}")
    assert response.status_code == 200 and response.json()["recordings_queued"] == 0
    assert [line.action for line in db.all(AuditEntry)] == ["erased"]
