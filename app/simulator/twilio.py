"""Plays Twilio's part against the service: signed webhooks that follow each TwiML answer.

Given an httpx.AsyncClient that reaches the service (in-process or over a socket), it
rings a line as a caller would, runs the recruiter's leg with its screening, leaves or
skips a voicemail, and sends the callbacks Twilio sends. Every request goes to a URL the
service handed out (or one an operator configures on the line), signed as Twilio signs.
"""

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass

import httpx
from twilio.request_validator import RequestValidator

from app.config import DEMO_ACCOUNT_SID
from app.simulator.exchange import (
    API_VERSION,
    KEY_PRESSED,
    CallRecord,
    CallScript,
    Exchange,
    FlowError,
    RecruiterDoes,
    Request,
    action_of,
    new_sid,
    play_twiml,
)
from app.twilio.twiml import FALLBACK, INCOMING, STATUS

_TRANSCRIBABLE_SECONDS = range(2, 121)


class TwilioSimulator:
    """Twilio's side of calls to the service reachable through `http`."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        auth_token: str,
        public_base_url: str,
        account_sid: str = DEMO_ACCOUNT_SID,
    ) -> None:
        self._http = http
        self._validator = RequestValidator(auth_token)
        self._base = public_base_url.rstrip("/")
        self.account_sid = account_sid

    def url(self, path: str) -> str:
        """The public URL of a path, as configured on a line."""
        return f"{self._base}{path}"

    def signed(self, request: Request) -> tuple[str, dict[str, str], dict[str, str]]:
        """The path and query to post to, the form, and the headers Twilio would send."""
        if not request.url.startswith(f"{self._base}/"):
            raise FlowError(f"{request.url!r} is not an absolute URL under {self._base}")
        form = dict(request.params)
        signature = self._validator.compute_signature(request.url, form)
        return request.url[len(self._base) :], form, {"X-Twilio-Signature": signature}

    async def send(self, request: Request) -> Exchange:
        """POST one signed webhook."""
        path, form, headers = self.signed(request)
        response = await self._http.post(path, data=form, headers=headers)
        return Exchange(request, response.status_code, response.text)

    async def call(self, script: CallScript) -> CallRecord:
        """Ring the line and play the call to its end, then send the call's status callback."""
        record = CallRecord(new_sid("CA"))
        call = self._call_params(script, record.call_sid)
        document = await self.fetch(record, Request(self.url(INCOMING), call))
        await _Call(self, record, script, call).play(document)
        await self.notify(record, self.completed(call))
        return record

    async def fallback_call(self, script: CallScript) -> CallRecord:
        """A call whose primary handler failed: Twilio asks the line's fallback URL."""
        record = CallRecord(new_sid("CA"))
        call = self._call_params(script, record.call_sid)
        fallback = Request(self.url(FALLBACK), call | {"ErrorCode": "11200"})
        await _Call(self, record, script, call).play(await self.fetch(record, fallback))
        return record

    def observed_callbacks(
        self,
        *,
        caller: str,
        line: str,
        mobile: str,
        leg_status: str = "no-answer",
        leg_caller_id: str | None = None,
        call_status: str = "completed",
    ) -> tuple[Request, Request]:
        """The two status callbacks of a call handled elsewhere: its leg to the mobile, and it."""
        call_sid, leg_sid = new_sid("CA"), new_sid("CA")
        call = self._call_params(CallScript(caller=caller, line=line), call_sid)
        leg = call | {
            "CallSid": leg_sid,
            "ParentCallSid": call_sid,
            "From": leg_caller_id or caller,
            "To": mobile,
            "Direction": "outbound-dial",
        }
        status = self.url(STATUS)
        return (
            Request(status, leg | {"CallStatus": leg_status, "SequenceNumber": "2"}),
            Request(status, call | {"CallStatus": call_status, "SequenceNumber": "3"}),
        )

    def completed(self, call: Mapping[str, str]) -> Request:
        """The line's status callback for a call that ended."""
        params = {"CallStatus": "completed", "CallDuration": "31", "SequenceNumber": "3"}
        return Request(self.url(STATUS), {**call, **params})

    def call_params(
        self,
        call_sid: str,
        *,
        caller: str,
        called: str,
        direction: str = "inbound",
        status: str = "ringing",
    ) -> dict[str, str]:
        """The parameters Twilio sends with every request about a call; add the rest with `|`."""
        return {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "CallSid": call_sid,
            "From": caller,
            "To": called,
            "Caller": caller,
            "Called": called,
            "Direction": direction,
            "CallStatus": status,
        }

    def _call_params(self, script: CallScript, call_sid: str) -> dict[str, str]:
        params = self.call_params(call_sid, caller=script.caller, called=script.line)
        if script.caller_name:
            params["CallerName"] = script.caller_name
        return params

    async def fetch(self, record: CallRecord, request: Request) -> ET.Element:
        """A request whose answer Twilio must run: anything but TwiML fails the call."""
        exchange = await self.send(request)
        record.exchanges.append(exchange)
        if exchange.status_code != 200:
            raise FlowError(
                f"{request.url} answered {exchange.status_code}: {exchange.body}",
                status_code=exchange.status_code,
            )
        return exchange.twiml()

    async def notify(self, record: CallRecord, request: Request) -> None:
        """A callback: Twilio does not care what it answers; the record keeps it."""
        record.exchanges.append(await self.send(request))


@dataclass
class _Call:
    """One call being played: the caller's side, then the recruiter's leg when dialed."""

    twilio: TwilioSimulator
    record: CallRecord
    script: CallScript
    params: dict[str, str]

    async def play(self, document: ET.Element | None) -> None:
        """Run the caller's TwiML, following each action, until the call ends."""
        players = {"Dial": self._dial, "Record": self._record}  # after <Record>: hang up
        await play_twiml(document, heard=self.record.caller_heard, players=players, who="a caller")

    async def _dial(self, dial: ET.Element) -> ET.Element:
        number = dial.find("Number")
        if number is None or not number.text:
            raise FlowError("<Dial> without a <Number>")
        leg_sid = new_sid("CA")
        outcome, bridged = await self._ring(number, leg_sid)
        self.record.bridged = bridged
        result = self.params | {
            "CallStatus": "in-progress",
            "DialCallSid": leg_sid,
            "DialCallStatus": outcome,
            "DialCallDuration": "42" if bridged else "0",
            "DialBridged": "true" if bridged else "false",
        }
        return await self.twilio.fetch(self.record, Request(action_of(dial), result))

    async def _ring(self, number: ET.Element, leg_sid: str) -> tuple[str, bool]:
        """The recruiter's leg: (DialCallStatus, bridged)."""
        does = self.script.recruiter
        if does is RecruiterDoes.BUSY:
            return "busy", False
        if does is RecruiterDoes.NO_ANSWER:
            return "no-answer", False
        screen_url = number.get("url")
        if screen_url is None:
            return "completed", True
        leg = self.params | {
            "CallSid": leg_sid,
            "ParentCallSid": self.record.call_sid,
            "To": number.text or "",
            "Called": number.text or "",
            "Direction": "outbound-dial",
            "CallStatus": "in-progress",
        }
        document = await self.twilio.fetch(self.record, Request(screen_url, leg))
        return "completed", await self._screen(document, leg)

    async def _screen(self, document: ET.Element | None, leg: dict[str, str]) -> bool:
        """Run the screening TwiML on the recruiter's leg; True if it ends and so bridges."""
        digit = KEY_PRESSED.get(self.script.recruiter)
        while document is not None:
            answer: ET.Element | None = None
            for verb in document:
                if verb.tag == "Hangup":
                    return False
                self.record.recruiter_heard += [say.text or "" for say in verb.iter("Say")]
                if verb.tag == "Gather" and digit is not None:
                    request = Request(action_of(verb), leg | {"Digits": digit})
                    answer = await self.twilio.fetch(self.record, request)
                    break
                if verb.tag not in ("Say", "Gather", "Pause"):
                    raise FlowError(f"the simulator cannot play <{verb.tag}> to a recruiter")
            if answer is None:
                return True  # the document ran out: Twilio bridges the two legs
            document = answer
        return True

    async def _record(self, record_verb: ET.Element) -> None:
        """The caller leaves a message (or hangs up first); then Twilio's callbacks."""
        action = action_of(record_verb)
        if self.script.message is None:
            return
        max_length = int(record_verb.get("maxLength", "3600"))
        seconds = min(self.script.message_seconds, max_length) if self.script.message else 0
        recording_sid = new_sid("RE")
        self.record.recording_sid = recording_sid
        recording_url = (
            f"https://api.twilio.com/{API_VERSION}/Accounts/"
            f"{self.twilio.account_sid}/Recordings/{recording_sid}"
        )
        recording = {"RecordingSid": recording_sid, "RecordingUrl": recording_url}
        finished = self.params | recording | {"RecordingDuration": str(seconds)}
        # The caller hangs up after speaking, so the action's TwiML is not played.
        await self.twilio.fetch(self.record, Request(action, finished | {"Digits": "hangup"}))
        await self._recording_status(record_verb, recording, seconds)
        await self._transcription(record_verb, recording, seconds)

    async def _recording_status(
        self, record_verb: ET.Element, recording: dict[str, str], seconds: int
    ) -> None:
        callback = record_verb.get("recordingStatusCallback")
        status = "completed" if self.script.message else "absent"
        events = record_verb.get("recordingStatusCallbackEvent", "completed").split()
        if callback is None or status not in events:
            return
        params = recording | {
            "AccountSid": self.twilio.account_sid,
            "CallSid": self.record.call_sid,
            "RecordingStatus": status,
            "RecordingDuration": str(seconds),
            "RecordingChannels": "1",
            "RecordingSource": "RecordVerb",
        }
        if status == "absent":
            params["ErrorCode"] = "16102"  # silent
        await self.twilio.notify(self.record, Request(callback, params))

    async def _transcription(
        self, record_verb: ET.Element, recording: dict[str, str], seconds: int
    ) -> None:
        callback = record_verb.get("transcribeCallback")
        if not self.script.message or record_verb.get("transcribe") != "true" or not callback:
            return
        transcribed = seconds in _TRANSCRIBABLE_SECONDS
        params = (
            self.params
            | recording
            | {
                "CallStatus": "completed",
                "TranscriptionSid": new_sid("TR"),
                "TranscriptionStatus": "completed" if transcribed else "failed",
                "TranscriptionText": self.script.message if transcribed else "",
                "TranscriptionType": "fast",
            }
        )
        await self.twilio.notify(self.record, Request(callback, params))
