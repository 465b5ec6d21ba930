"""The voice TwiML: absolute URLs under PUBLIC_BASE_URL, an action on every verb that needs one."""

import xml.etree.ElementTree as ET

import pytest

from app.config import Settings
from app.twilio.twiml import VoiceTwiml

BASE = "https://calls.example.org/pledge"
URL_ATTRIBUTES = ("action", "url", "recordingStatusCallback", "transcribeCallback")


@pytest.fixture
def voice() -> VoiceTwiml:
    settings = Settings(_env_file=None, public_base_url=BASE, call_timeout_seconds=25)  # type: ignore[call-arg]
    return VoiceTwiml(settings)


def documents(voice: VoiceTwiml) -> dict[str, ET.Element]:
    texts = {
        "forward": voice.forward(mobile="+14155550100", recruiter_id=7),
        "screen": voice.screen,
        "connect": voice.connect,
        "hang_up": voice.hang_up,
        "voicemail": voice.voicemail,
        "goodbye": voice.goodbye,
        "out_of_service": voice.out_of_service,
    }
    return {name: ET.fromstring(text) for name, text in texts.items()}


def test_every_dial_gather_and_record_names_an_absolute_action(voice: VoiceTwiml) -> None:
    verbs = [
        verb
        for document in documents(voice).values()
        for verb in document.iter()
        if verb.tag in ("Dial", "Gather", "Record")
    ]
    assert {verb.tag for verb in verbs} == {"Dial", "Gather", "Record"}
    assert all(verb.get("action", "").startswith(f"{BASE}/twilio/voice/") for verb in verbs)


def test_every_url_is_absolute_under_the_public_base_url(voice: VoiceTwiml) -> None:
    urls = [
        element.get(name, "")
        for document in documents(voice).values()
        for element in document.iter()
        for name in URL_ATTRIBUTES
        if element.get(name) is not None
    ]
    assert len(urls) == 6
    assert all(url.startswith(f"{BASE}/twilio/voice/") for url in urls)


def test_forward_rings_the_mobile_screened_with_the_configured_timeout(voice: VoiceTwiml) -> None:
    dial = documents(voice)["forward"].find("Dial")
    assert dial is not None
    assert dial.get("timeout") == "25" and dial.get("answerOnBridge") == "true"
    assert dial.get("action") == f"{BASE}/twilio/voice/dial?recruiter=7"
    number = dial.find("Number")
    assert number is not None and number.text == "+14155550100"
    assert number.get("url") == f"{BASE}/twilio/voice/screen"


def test_the_screen_asks_for_one_key_and_hangs_up_without_one(voice: VoiceTwiml) -> None:
    gather, after = list(documents(voice)["screen"])
    assert (gather.tag, gather.get("numDigits"), after.tag) == ("Gather", "1", "Hangup")


def test_the_voicemail_records_at_most_120_seconds_with_every_callback(voice: VoiceTwiml) -> None:
    say, record = list(documents(voice)["voicemail"])
    assert say.tag == "Say" and record.tag == "Record"
    assert int(record.get("maxLength", "3600")) <= 120
    assert record.get("transcribe") == "true"
    assert record.get("recordingStatusCallbackEvent", "").split() == ["completed", "absent"]
    assert record.get("recordingStatusCallback") == f"{BASE}/twilio/voice/recording"
    assert record.get("transcribeCallback") == f"{BASE}/twilio/voice/transcription"


def test_the_documents_that_end_a_call_say_why_and_hang_up(voice: VoiceTwiml) -> None:
    for name in ("goodbye", "out_of_service"):
        assert [verb.tag for verb in documents(voice)[name]] == ["Say", "Hangup"]
    assert [verb.tag for verb in documents(voice)["hang_up"]] == ["Hangup"]
    assert list(documents(voice)["connect"]) == []
