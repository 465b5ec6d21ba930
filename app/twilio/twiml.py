"""The voice flow's TwiML, built with twilio's VoiceResponse; every URL absolute.

Documents that do not depend on the call are rendered once per service, so the hot
webhooks only pick a string. Every `<Dial>`, `<Gather>` and `<Record>` names its
`action`: without one Twilio re-requests the current URL and the flow loops.
"""

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


class VoiceTwiml:
    """The TwiML documents of the forward flow for one service's settings."""

    def __init__(self, settings: Settings) -> None:
        url = settings.public_url
        self._dial_result = url(DIAL_RESULT)
        self._screen = url(SCREEN)
        self._timeout = settings.call_timeout_seconds
        self.screen = _screen(url(SCREEN_CHOICE))
        self.connect = _render(VoiceResponse())
        self.hang_up = _hang_up()
        # Also the fallback's answer: it needs no state, only the callbacks' URLs.
        self.voicemail = _voicemail(url(RECORDED), url(RECORDING), url(TRANSCRIPTION))
        self.goodbye = _say_and_hang_up("Thank you. Goodbye.")
        self.out_of_service = _say_and_hang_up(OUT_OF_SERVICE)

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


def _screen(choice_url: str) -> str:
    """Run on the recruiter's leg: only a key press bridges, so a mobile's voicemail never does."""
    response = VoiceResponse()
    gather = response.gather(num_digits=1, action=choice_url, timeout=SCREEN_WAIT_SECONDS)
    gather.say(SCREEN_PROMPT)
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
