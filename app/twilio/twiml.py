"""The voice flow's TwiML, built with twilio's VoiceResponse; every URL absolute.

Documents that do not depend on the call are rendered once per service, so the hot
webhooks only pick a string. Every `<Dial>`, `<Gather>` and `<Record>` names its
`action`: without one Twilio re-requests the current URL and the flow loops.
"""

import re

from twilio.twiml.voice_response import VoiceResponse

from app.config import Settings

INCOMING = "/twilio/voice/incoming"
SCREEN = "/twilio/voice/screen"
SCREEN_CHOICE = "/twilio/voice/screen/choice"
DIAL_RESULT = "/twilio/voice/dial"
RECORDED = "/twilio/voice/recorded"
RECORDING = "/twilio/voice/recording"
TRANSCRIPTION = "/twilio/voice/transcription"
STATUS = "/twilio/voice/status"
FALLBACK = "/twilio/voice/fallback"
OUTBOUND = "/twilio/voice/outbound"
CONNECT = "/twilio/voice/connect"
CONNECT_CHOICE = "/twilio/voice/connect/choice"
CALLBACK_RESULT = "/twilio/voice/callback"

ACCEPT_DIGIT = "1"
# Transcription works only for recordings of 2 to 120 seconds.
VOICEMAIL_MAX_SECONDS = 120
SCREEN_WAIT_SECONDS = 6

GREETING = (
    "Sorry, nobody can take your call right now. Please leave a message after the tone, "
    "and you will be called back."
)
SCREEN_PROMPT = "You have a call on your recruiting line. Press 1 to accept it."
OUT_OF_SERVICE = "Sorry, this number is not in service. Goodbye."
NOT_A_SOFTPHONE = "Sorry, this phone may not call out through the recruiting lines. Goodbye."
NOT_A_NUMBER = "Sorry, that is not a phone number that can be called. Goodbye."
NOTHING_TO_CALL = "This callback was closed in the meantime, so there is nobody to call. Goodbye."
NO_ANSWER_NOTED = "No answer. Your attempt is noted. Goodbye."
# What XML 1.0 cannot hold: C0 controls (but tab and newlines), surrogates, U+FFFE, U+FFFF.
# ElementTree writes them anyway, and Twilio cannot parse the document that holds one.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """`text` for a TwiML document: without the characters no XML document may hold."""
    return _NOT_XML.sub("", text)


def connect_path(outbox_id: int) -> str:
    """The path of the TwiML a click-to-call's first leg runs once the recruiter picks up."""
    return f"{CONNECT}?outbox={outbox_id}"


class VoiceTwiml:
    """The TwiML documents of the forward flow for one service's settings."""

    def __init__(self, settings: Settings) -> None:
        url = settings.public_url
        self._dial_result = url(DIAL_RESULT)
        self._screen = url(SCREEN)
        self._timeout = settings.call_timeout_seconds
        self.screen = _screen(url(SCREEN_CHOICE), SCREEN_PROMPT)
        self.connect = _render(VoiceResponse())
        self.hang_up = _hang_up()
        # Also the fallback's answer: it needs no state, only the callbacks' URLs.
        self.voicemail = _voicemail(url(RECORDED), url(RECORDING), url(TRANSCRIPTION))
        self.goodbye = _say_and_hang_up("Thank you. Goodbye.")
        self.out_of_service = _say_and_hang_up(OUT_OF_SERVICE)
        self.not_a_softphone = _say_and_hang_up(NOT_A_SOFTPHONE)
        self.not_a_number = _say_and_hang_up(NOT_A_NUMBER)
        self.nothing_to_call = _say_and_hang_up(NOTHING_TO_CALL)
        self.no_answer_noted = _say_and_hang_up(NO_ANSWER_NOTED)
        self._status = url(STATUS)
        self._callback_result = url(CALLBACK_RESULT)
        self._connect_choice = url(CONNECT_CHOICE)

    def forward(self, *, mobile: str, recruiter_id: int) -> str:
        """Ring the recruiter's mobile, screened; the Dial action decides what happens next."""
        response = VoiceResponse()
        # The recruiter id rides in the signed action URL, so the Dial action needs no look-up.
        dial = response.dial(
            action=f"{self._dial_result}?recruiter={recruiter_id}",
            timeout=self._timeout,
            answer_on_bridge=True,
        )
        dial.number(mobile, url=self._screen)
        return _render(response)

    def call_back(
        self, *, line: str, number: str, obligation_id: int | None, announce: str | None = None
    ) -> str:
        """Dial `number` with the line as caller ID; the leg's status callback and the Dial
        action both report how it ended (either may come first, or alone)."""
        response = VoiceResponse()
        if announce:
            response.say(xml_safe(announce))
        query = f"?obligation={obligation_id}" if obligation_id is not None else ""
        dial = response.dial(action=self._callback_result + query, caller_id=line)
        dial.number(number, status_callback=self._status, status_callback_event="completed")
        return _render(response)

    def click_to_call_screen(self, *, outbox_id: int, prompt: str) -> str:
        """Run on the recruiter's leg of a click-to-call: only a key press dials the caller."""
        return _screen(f"{self._connect_choice}?outbox={outbox_id}", xml_safe(prompt))


def _render(response: VoiceResponse) -> str:
    return str(response)


def _hang_up() -> str:
    response = VoiceResponse()
    response.hangup()
    return _render(response)


def _say_and_hang_up(text: str) -> str:
    response = VoiceResponse()
    response.say(text)
    response.hangup()
    return _render(response)


def _screen(choice_url: str, prompt: str) -> str:
    """Run on the recruiter's leg: only a key press goes on, so a mobile's voicemail never does."""
    response = VoiceResponse()
    gather = response.gather(num_digits=1, action=choice_url, timeout=SCREEN_WAIT_SECONDS)
    gather.say(prompt)
    # Reached when no key is pressed (carrier voicemail, or the recruiter let it be).
    response.hangup()
    return _render(response)


def _voicemail(action_url: str, recording_url: str, transcription_url: str) -> str:
    response = VoiceResponse()
    response.say(GREETING)
    response.record(
        action=action_url,
        max_length=VOICEMAIL_MAX_SECONDS,
        play_beep=True,
        recording_status_callback=recording_url,
        recording_status_callback_event="completed absent",
        transcribe=True,
        transcribe_callback=transcription_url,
    )
    return _render(response)
