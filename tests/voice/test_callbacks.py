"""Recording, transcription and status callbacks; what a bad or incomplete webhook gets."""

import logging

import httpx
import pytest
from prometheus_client import REGISTRY

from app.config import Settings
from app.models import Call, Obligation, ObligationEvent, Recruiter, Voicemail
from app.simulator.exchange import CallScript, RecruiterDoes, new_sid
from app.simulator.twilio import TwilioSimulator
from app.twilio import twiml
from tests.conftest import Webhook
from tests.support.databases import TestDatabase
from tests.support.loop import CALLER
from tests.support.signer import TwilioSigner


def kinds(db: TestDatabase) -> list[str]:
    return [event.kind for event in db.all(ObligationEvent)]


async def test_a_silent_voicemail_leaves_an_absent_mark_on_the_timeline(
    twilio: TwilioSimulator, recruiter: Recruiter, db: TestDatabase
) -> None:
    await twilio.call(CallScript(caller=CALLER, line=recruiter.line, message=""))

    assert db.one(Obligation).missed_calls == 1
    assert kinds(db) == ["opened", "voicemail_absent"]
    assert db.all(ObligationEvent)[-1].detail["error_code"] == "16102"
    voicemail = db.one(Voicemail)
    assert (voicemail.recording_status, voicemail.recording_url) == ("absent", None)
    assert voicemail.obligation_id is None  # not listed among the obligation's voicemails


async def test_a_message_too_short_to_transcribe_leaves_a_failed_transcript_mark(
    twilio: TwilioSimulator, recruiter: Recruiter, db: TestDatabase
) -> None:
    await twilio.call(
        CallScript(caller=CALLER, line=recruiter.line, message="Hi", message_seconds=1)
    )

    assert kinds(db) == ["opened", "voicemail", "transcript_failed"]
    voicemail = db.one(Voicemail)
    assert (voicemail.transcript_status, voicemail.transcript) == ("failed", None)


async def test_a_long_message_is_cut_at_120_seconds_and_still_transcribed(
    twilio: TwilioSimulator, recruiter: Recruiter, db: TestDatabase
) -> None:
    await twilio.call(
        CallScript(caller=CALLER, line=recruiter.line, message="Long one", message_seconds=600)
    )

    voicemail = db.one(Voicemail)
    assert (voicemail.duration_seconds, voicemail.transcript) == (120, "Long one")


async def test_a_recording_of_a_call_never_seen_is_kept_unattached(
    webhook: Webhook, db: TestDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    call_sid = new_sid("CA")
    response = await webhook(
        twiml.RECORDING,
        {
            "CallSid": call_sid,
            "RecordingSid": new_sid("RE"),
            "RecordingStatus": "completed",
            "RecordingUrl": "https://api.twilio.com/recording",
            "RecordingDuration": "9",
        },
    )

    assert response.status_code == 204
    voicemail = db.one(Voicemail)
    assert (voicemail.call_sid, voicemail.obligation_id) == (call_sid, None)
    assert call_sid in caplog.text and db.count(Obligation) == 0


@pytest.mark.parametrize("recording_first", [True, False], ids=["recording-first", "status-first"])
async def test_a_voicemail_the_fallback_took_opens_one_obligation_in_either_order(
    webhook: Webhook, recruiter: Recruiter, db: TestDatabase, recording_first: bool
) -> None:
    """The database was away: no /incoming, no Dial action; only the fallback's <Record>."""
    call_sid, recording_sid = new_sid("CA"), new_sid("RE")
    recording = {
        "CallSid": call_sid,
        "RecordingSid": recording_sid,
        "RecordingStatus": "completed",
        "RecordingUrl": "https://api.twilio.com/recording",
        "RecordingDuration": "9",
    }
    ended = status(call_sid, "completed", 3, To=recruiter.line, CallDuration="15")
    callbacks = [(twiml.RECORDING, recording), (twiml.STATUS, ended)]
    for path, params in callbacks if recording_first else callbacks[::-1]:
        assert (await webhook(path, params)).status_code == 204
    for path, params in callbacks:  # Twilio's retries change nothing
        await webhook(path, params)

    obligation = db.one(Obligation)
    assert (obligation.caller, obligation.missed_calls, obligation.status) == (CALLER, 1, "open")
    assert db.one(Voicemail).obligation_id == obligation.id
    assert sorted(kinds(db)) == ["opened", "voicemail"]


def status(call_sid: str, call_status: str, sequence: int, **extra: str) -> dict[str, str]:
    return {
        "CallSid": call_sid,
        "CallStatus": call_status,
        "SequenceNumber": str(sequence),
        "Direction": "inbound",
        "From": CALLER,
        "To": "+15005550006",
    } | extra


async def test_the_call_log_keeps_the_newest_status_whatever_the_arrival_order(
    webhook: Webhook, db: TestDatabase
) -> None:
    sid = new_sid("CA")
    for call_status, sequence in (("in-progress", 2), ("ringing", 1)):
        await webhook(twiml.STATUS, status(sid, call_status, sequence))
    assert db.one(Call).status == "in-progress"

    await webhook(twiml.STATUS, status(sid, "completed", 3, CallDuration="40"))
    await webhook(twiml.STATUS, status(sid, "in-progress", 2))
    await webhook(twiml.STATUS, status(sid, "ringing", 9))

    call = db.one(Call)
    assert (call.status, call.sequence_number, call.duration_seconds) == ("completed", 3, 40)


async def test_a_status_callback_fills_in_the_line_owner_of_an_inbound_call(
    webhook: Webhook, recruiter: Recruiter, db: TestDatabase
) -> None:
    await webhook(twiml.STATUS, status(new_sid("CA"), "completed", 3, To=recruiter.line))

    call = db.one(Call)
    assert (call.recruiter_id, call.missed_at) == (recruiter.id, None)


DIAL = f"{twiml.DIAL_RESULT}?recruiter=1"
INCOMPLETE: list[tuple[str, dict[str, str], str]] = [
    (twiml.INCOMING, {"From": CALLER, "To": "+15005550006"}, "CallSid"),
    (DIAL, {"CallSid": "CA1", "From": CALLER, "DialCallStatus": "no-answer"}, "DialBridged"),
    (twiml.DIAL_RESULT, {"CallSid": "CA1", "From": CALLER, "DialBridged": "false"}, "recruiter"),
    (twiml.RECORDING, {"CallSid": "CA1", "RecordingStatus": "completed"}, "RecordingSid"),
    (twiml.RECORDING, {"CallSid": "CA1", "RecordingSid": "RE1"}, "RecordingStatus"),
    (twiml.TRANSCRIPTION, {"CallSid": "CA1", "RecordingSid": "RE1"}, "TranscriptionStatus"),
    (twiml.STATUS, {"CallSid": "CA1", "From": CALLER}, "CallStatus"),
    (twiml.STATUS, {"CallSid": "CA" + "1" * 70, "CallStatus": "completed"}, "CallSid"),
    (twiml.OUTBOUND, {"From": "client:alice", "To": CALLER}, "CallSid"),
    (twiml.CONNECT, {"CallSid": "CA1", "Direction": "outbound-api"}, "outbox"),
    (twiml.CONNECT_CHOICE, {"CallSid": "CA1", "Digits": "1"}, "outbox"),
    (f"{twiml.CALLBACK_RESULT}?obligation=1", {"CallSid": "CA1"}, "DialCallStatus"),
    (
        twiml.CALLBACK_RESULT,
        {"CallSid": "CA1", "DialCallSid": "CA" + "2" * 70, "DialCallStatus": "completed"},
        "DialCallSid",
    ),
]


@pytest.mark.parametrize(("path", "params", "field"), INCOMPLETE, ids=lambda v: str(v)[:40])
async def test_a_signed_webhook_lacking_a_field_is_a_422_naming_it_and_writes_nothing(
    path: str,
    params: dict[str, str],
    field: str,
    webhook: Webhook,
    db: TestDatabase,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        response = await webhook(path, params)

    assert response.status_code == 422
    assert field in response.json()["detail"] and field in caplog.text
    assert db.count(Call) == db.count(Voicemail) == db.count(Obligation) == 0


VOICE_PATHS = [
    twiml.INCOMING,
    twiml.SCREEN,
    twiml.SCREEN_CHOICE,
    DIAL,
    twiml.RECORDED,
    twiml.RECORDING,
    twiml.TRANSCRIPTION,
    twiml.STATUS,
    twiml.FALLBACK,
    twiml.OUTBOUND,
    f"{twiml.CONNECT}?outbox=1",
    f"{twiml.CONNECT_CHOICE}?outbox=1",
    f"{twiml.CALLBACK_RESULT}?obligation=1",
]
EVERYTHING = {
    "CallSid": "CA1",
    "From": CALLER,
    "To": "+15005550006",
    "CallStatus": "no-answer",
    "DialBridged": "false",
    "RecordingSid": "RE1",
    "RecordingStatus": "completed",
    "TranscriptionStatus": "completed",
    "Digits": "1",
    "DialCallSid": "CA2",
    "DialCallStatus": "completed",
}


@pytest.mark.parametrize("path", VOICE_PATHS)
async def test_an_unsigned_or_missigned_webhook_is_403_and_writes_nothing(
    path: str, client: httpx.AsyncClient, settings: Settings, db: TestDatabase
) -> None:
    forged = TwilioSigner("not-the-auth-token", settings.public_base_url)
    unsigned = await client.post(path, data=EVERYTHING)
    missigned = await client.post(path, data=EVERYTHING, headers=forged.headers(path, EVERYTHING))

    assert (unsigned.status_code, missigned.status_code) == (403, 403)
    assert db.count(Call) == db.count(Voicemail) == db.count(Obligation) == 0


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_webhooks_and_obligations_are_counted_in_the_metrics(
    twilio: TwilioSimulator, recruiter: Recruiter
) -> None:
    missed = ("callpledge_webhooks_total", {"kind": "voice_dial", "outcome": "missed"})
    attached = ("callpledge_webhooks_total", {"kind": "voice_recording", "outcome": "attached"})
    closed = ("callpledge_obligations_closed_total", {"reason": "answered"})
    before = [sample(name, **labels) for name, labels in (missed, attached, closed)]
    opened_before = sample("callpledge_obligations_opened_total")

    await twilio.call(CallScript(caller=CALLER, line=recruiter.line, message="Hello"))
    await twilio.call(
        CallScript(caller=CALLER, line=recruiter.line, recruiter=RecruiterDoes.ACCEPTS)
    )

    after = [sample(name, **labels) for name, labels in (missed, attached, closed)]
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 1]
    assert sample("callpledge_obligations_opened_total") - opened_before == 1
