"""`callpledge reconcile`: after an outage, Twilio's records restore exactly what was missed."""

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from app.models import Call, Obligation, ObligationEvent, Recruiter, Voicemail
from tests.cli.conftest import Run
from tests.conftest import Webhook
from tests.support.databases import TestDatabase
from tests.support.factories import make_recruiter
from tests.support.fake_twilio import FakeTwilio
from tests.support.history import GREETING_SECONDS, Account

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
HEARD, LOST, DOWN, TAKEN, SCREENED = (f"+4477009001{n:02d}" for n in range(5))
EARLY, GOING, ELSEWHERE = "+447700900190", "+447700900191", "+447700900192"


@pytest.fixture
def settings_overrides(tmp_path: Path) -> dict[str, Any]:
    """Commands read "now" from a clock file: NOW."""
    clock_file = tmp_path / "clock"
    clock_file.write_text(NOW.isoformat())
    return {"callpledge_clock_file": clock_file}


@pytest.fixture
def alice(db: TestDatabase) -> Recruiter:
    return make_recruiter(db)


@pytest.fixture
def account(fake_twilio: FakeTwilio) -> Account:
    return Account(fake_twilio)


def ago(minutes: int) -> datetime:
    return NOW - timedelta(minutes=minutes)


async def reconcile(callpledge: Run, *args: str) -> Result:
    # The command runs its own event loop: off this test's loop.
    return await asyncio.to_thread(callpledge, "reconcile", *args)


async def heard_miss(webhook: Webhook, account: Account, recruiter: Recruiter) -> str:
    """A call whose Dial action and voicemail the service received, as usual."""
    sid = account.unanswered(
        caller=HEARD, line=recruiter.line, mobile=recruiter.mobile, at=ago(300)
    )
    recording = account.recording(sid, at=ago(299))
    call = {"CallSid": sid, "From": HEARD, "To": recruiter.line, "Direction": "inbound"}
    dial = call | {
        "CallStatus": "in-progress",
        "DialCallStatus": "no-answer",
        "DialBridged": "false",
    }
    assert (await webhook(f"/twilio/voice/dial?recruiter={recruiter.id}", dial)).status_code == 200
    await webhook("/twilio/voice/recording", recorded(sid, recording))
    return sid


async def kept_voicemail(webhook: Webhook, account: Account, recruiter: Recruiter) -> str:
    """The fallback took a voicemail while the database was down; its recording callback
    came once it was back, about a call the service had never seen: kept unattached."""
    sid = account.call(caller=LOST, line=recruiter.line, at=ago(60), seconds=30)
    recording = account.recording(sid, at=ago(59))
    assert (await webhook("/twilio/voice/recording", recorded(sid, recording))).status_code == 204
    return recording


def recorded(call_sid: str, recording_sid: str) -> dict[str, str]:
    return {
        "CallSid": call_sid,
        "RecordingSid": recording_sid,
        "RecordingStatus": "completed",
        "RecordingUrl": f"https://api.twilio.com/Recordings/{recording_sid}",
        "RecordingDuration": "12",
    }


def outage(account: Account, recruiter: Recruiter) -> dict[str, str]:
    """Calls Twilio holds that the service never heard of; their sids by what they were."""
    line, mobile = recruiter.line, recruiter.mobile
    lost = account.unanswered(caller=LOST, line=line, mobile=mobile, at=ago(240))
    lost_recording = account.recording(lost, at=ago(239))
    account.transcription(lost_recording, "Hi, it's Sam about the role", at=ago(238))
    down = account.call(caller=DOWN, line=line, at=ago(200), seconds=4)  # application error
    taken = account.call(caller=TAKEN, line=line, at=ago(180), seconds=95)
    account.leg(taken, caller=TAKEN, mobile=mobile, at=ago(180), seconds=94, status="completed")
    # Picked up, screen hung up after 10 s, the caller heard the greeting and hung up.
    screened = account.call(caller=SCREENED, line=line, at=ago(150), seconds=10 + GREETING_SECONDS)
    account.leg(
        screened, caller=SCREENED, mobile=mobile, at=ago(150), seconds=10, status="completed"
    )
    withheld = account.call(caller="anonymous", line=line, at=ago(120), seconds=40)
    withheld_recording = account.recording(withheld, at=ago(119))
    account.transcription(withheld_recording, "It's me, call me", at=ago(118))
    account.unanswered(caller=EARLY, line=line, mobile=mobile, at=NOW - timedelta(hours=30))
    account.call(caller=GOING, line=line, at=ago(1), seconds=0, status="in-progress")
    account.unanswered(caller=ELSEWHERE, line="+15017770999", mobile=mobile, at=ago(30))
    return {"lost": lost, "down": down, "screened": screened, "withheld": withheld,
            "lost_recording": lost_recording, "withheld_recording": withheld_recording}  # fmt: skip


def snapshot(db: TestDatabase) -> tuple[Any, ...]:
    obligations = db.all(Obligation, order_by=Obligation.id)
    voicemails = db.all(Voicemail, order_by=Voicemail.id)
    return (
        [(o.id, o.caller, o.missed_calls, o.status, o.next_reminder_at) for o in obligations],
        [(v.recording_sid, v.obligation_id, v.transcript) for v in voicemails],
        db.count(ObligationEvent),
        [(c.call_sid, c.status, c.missed_at, c.updated_at) for c in db.all(Call, order_by=Call.id)],
    )


async def test_reconcile_after_an_outage_restores_exactly_what_was_missed(
    callpledge: Run, webhook: Webhook, account: Account, alice: Recruiter, db: TestDatabase
) -> None:
    await heard_miss(webhook, account, alice)
    kept = await kept_voicemail(webhook, account, alice)
    sids = outage(account, alice)

    result = await reconcile(callpledge)

    assert result.exit_code == 0, result.output
    by_caller = {o.caller: o for o in db.all(Obligation)}
    assert sorted(by_caller, key=str) == sorted([HEARD, LOST, DOWN, SCREENED, None], key=str)
    assert {c: o.missed_calls for c, o in by_caller.items()} == {
        HEARD: 1, LOST: 2, DOWN: 1, SCREENED: 1, None: 1
    }  # fmt: skip
    # Opened when the caller called, as Twilio recorded it.
    assert by_caller[LOST].opened_at == ago(240)
    assert by_caller[DOWN].opened_at == ago(200)
    voicemails = {v.recording_sid: v for v in db.all(Voicemail)}
    assert voicemails[sids["lost_recording"]].obligation_id == by_caller[LOST].id
    assert voicemails[sids["lost_recording"]].transcript == "Hi, it's Sam about the role"
    assert voicemails[kept].obligation_id == by_caller[LOST].id
    assert voicemails[sids["withheld_recording"]].obligation_id == by_caller[None].id
    assert voicemails[sids["withheld_recording"]].transcript == "It's me, call me"
    lost_call = db.one(Call, Call.call_sid == sids["lost"])
    assert (lost_call.status, lost_call.obligation_id) == ("completed", by_caller[LOST].id)
    assert "Restored 5 missed call(s) (4 new obligation(s)" in result.output
    assert "3 voicemail(s), 2 transcript(s)" in result.output
    assert f"{sids['screened']} from +44 7700 900104: opened #{by_caller[SCREENED].id}" in (
        result.output
    )
    assert "(screened out)" in result.output and "(not forwarded)" in result.output
    assert "1 taken, 1 already known, 1 still going, 5 restored" in result.output


async def test_a_transcript_kept_alone_is_completed_by_its_recording(
    callpledge: Run, webhook: Webhook, account: Account, alice: Recruiter, db: TestDatabase
) -> None:
    sid = account.call(caller=LOST, line=alice.line, at=ago(60), seconds=30)
    recording = account.recording(sid, at=ago(59))
    transcribed = {
        "CallSid": sid,
        "RecordingSid": recording,
        "TranscriptionStatus": "completed",
        "TranscriptionText": "Call me back",
    }
    assert (await webhook("/twilio/voice/transcription", transcribed)).status_code == 204

    result = await reconcile(callpledge)

    assert result.exit_code == 0, result.output
    obligation, voicemail = db.one(Obligation), db.one(Voicemail)
    assert (obligation.caller, voicemail.obligation_id) == (LOST, obligation.id)
    assert (voicemail.transcript, voicemail.recording_status) == ("Call me back", "completed")
    assert voicemail.recording_url is not None and recording in voicemail.recording_url


async def test_a_second_run_adds_nothing(
    callpledge: Run, webhook: Webhook, account: Account, alice: Recruiter, db: TestDatabase
) -> None:
    await heard_miss(webhook, account, alice)
    await kept_voicemail(webhook, account, alice)
    outage(account, alice)
    assert (await reconcile(callpledge)).exit_code == 0
    before = snapshot(db)

    again = await reconcile(callpledge)

    assert again.exit_code == 0, again.output
    assert snapshot(db) == before
    assert "Nothing to restore: every missed call and voicemail was known." in again.output


async def test_a_long_run_shows_its_progress(
    callpledge: Run, account: Account, alice: Recruiter, db: TestDatabase
) -> None:
    for n in range(30):
        account.call(caller=f"+4477009002{n:02d}", line=alice.line, at=ago(100 + n), seconds=3)

    result = await reconcile(callpledge, "--since", "2026-01-05T00:00:00+00:00")

    assert result.exit_code == 0, result.output
    assert db.count(Obligation) == 30
    assert "Checking calls" in result.stderr and "30/30" in result.stderr
    assert "Restored 30 missed call(s) (30 new obligation(s)" in result.output


async def test_a_short_window_leaves_older_calls_alone(
    callpledge: Run, account: Account, alice: Recruiter, db: TestDatabase
) -> None:
    account.call(caller=DOWN, line=alice.line, at=ago(90), seconds=3)
    account.call(caller=LOST, line=alice.line, at=ago(20), seconds=3)
    result = await reconcile(callpledge, "--since", "1h")
    assert result.exit_code == 0, result.output
    assert [o.caller for o in db.all(Obligation)] == [LOST]
    assert "Checking calls" not in result.stderr


async def test_line_restricts_the_run_to_the_lines_named(
    callpledge: Run, account: Account, alice: Recruiter, db: TestDatabase
) -> None:
    bea = make_recruiter(db)
    account.call(caller=DOWN, line=alice.line, at=ago(90), seconds=3)
    account.call(caller=LOST, line=bea.line, at=ago(20), seconds=3)
    result = await reconcile(callpledge, "--line", bea.line)
    assert result.exit_code == 0, result.output
    assert [(o.recruiter_id, o.caller) for o in db.all(Obligation)] == [(bea.id, LOST)]
    unknown = await reconcile(callpledge, "--line", "+15017770999")
    assert unknown.exit_code == 2 and "no active recruiter has +15017770999" in unknown.stderr


async def test_twilio_unreachable_or_demo_mode_is_a_one_line_error(
    callpledge: Run, fake_twilio: FakeTwilio, alice: Recruiter
) -> None:
    fake_twilio.down()
    down = await reconcile(callpledge)
    assert down.exit_code == 1 and "Twilio:" in down.stderr and "run it again" in down.stderr
    demo = await asyncio.to_thread(
        callpledge,
        "reconcile",
        env={"TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": "", "SMS_BACKEND": "auto"},
    )
    assert demo.exit_code == 2 and "demo mode" in demo.stderr
    bad = await reconcile(callpledge, "--since", "yesterday")
    assert bad.exit_code == 2 and "--since" in bad.stderr
