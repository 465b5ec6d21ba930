"""Plays Twilio's part in what a recruiter does: text a line, call out from a softphone, and
take a click-to-call the service placed. Builds on TwilioSimulator (signing, fetching TwiML,
the record of a call), so every request goes to a URL the service handed out, signed.
"""

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from enum import StrEnum

from app.simulator.exchange import (
    API_VERSION,
    GO_ON,
    KEY_PRESSED,
    CallRecord,
    Exchange,
    FlowError,
    GoOn,
    RecruiterDoes,
    Request,
    action_of,
    new_sid,
    play_twiml,
)
from app.simulator.twilio import TwilioSimulator
from app.twilio.messaging import INCOMING as SMS_INCOMING
from app.twilio.twiml import OUTBOUND, STATUS, connect_path

_PLACED_CALL_EVENTS = ("initiated", "ringing", "answered", "completed")


class CalleeDoes(StrEnum):
    """What the person a recruiter calls does; the value is the leg's final CallStatus."""

    ANSWERS = "completed"
    NO_ANSWER = "no-answer"
    BUSY = "busy"
    CALL_ABANDONED = "canceled"  # the recruiter hangs up before anyone answers


@dataclass(frozen=True)
class PlacedCall:
    """A call the service asked Twilio to place: the Calls request's To, From, Url and
    StatusCallback (with its events), and the SID Twilio gave it."""

    sid: str
    to: str
    from_number: str
    url: str
    status_callback: str | None = None
    status_callback_events: tuple[str, ...] = _PLACED_CALL_EVENTS


@dataclass(frozen=True)
class Texted:
    """An SMS sent to the service, and the replies its TwiML asks Twilio to send back."""

    exchange: Exchange
    replies: list[str]


async def send_text(
    twilio: TwilioSimulator, *, sender: str, line: str, body: str, message_sid: str | None = None
) -> Exchange:
    """An SMS reaching `line`: Twilio asks its *A message comes in* URL what to do."""
    sid = message_sid or new_sid("SM")
    params = {
        "AccountSid": twilio.account_sid,
        "ApiVersion": API_VERSION,
        "MessageSid": sid,
        "SmsSid": sid,
        "SmsMessageSid": sid,
        "SmsStatus": "received",
        "From": sender,
        "To": line,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
    }
    return await twilio.send(Request(twilio.url(SMS_INCOMING), params))


class RecruiterPhone:
    """Twilio's side of a recruiter's texts and outgoing calls."""

    def __init__(self, twilio: TwilioSimulator) -> None:
        self.twilio = twilio

    async def text(
        self, *, sender: str, line: str, body: str, message_sid: str | None = None
    ) -> Texted:
        """An SMS from `sender` to `line` (pass the same `message_sid` for a redelivery)."""
        exchange = await send_text(
            self.twilio, sender=sender, line=line, body=body, message_sid=message_sid
        )
        if exchange.status_code != 200:
            raise FlowError(
                f"{SMS_INCOMING} answered {exchange.status_code}: {exchange.body}",
                status_code=exchange.status_code,
            )
        return Texted(exchange, exchange.messages())

    async def softphone_call(
        self,
        *,
        identity: str,
        to: str,
        callee: CalleeDoes = CalleeDoes.ANSWERS,
        sip_domain: str | None = None,
        leg_reported_first: bool = True,
        app_status_callback: str | None = None,
    ) -> CallRecord:
        """A Voice SDK (or, given `sip_domain`, SIP) call out through the TwiML App."""
        record = CallRecord(new_sid("CA"))
        caller = f"sip:{identity}@{sip_domain}" if sip_domain else f"client:{identity}"
        called = f"sip:{to}@{sip_domain}" if sip_domain else to
        params = self.twilio.call_params(record.call_sid, caller=caller, called=called)
        document = await self.twilio.fetch(record, Request(self.twilio.url(OUTBOUND), params))
        on_line = _OnTheLine(self.twilio, record, params, callee, leg_reported_first)
        await on_line.play(document)
        if app_status_callback:
            final = params | {"CallStatus": "completed", "CallDuration": "60"}
            await self.twilio.notify(record, Request(app_status_callback, final))
        return record

    def placed_for(self, *, outbox_id: int, mobile: str, line: str) -> PlacedCall:
        """The call the worker places for click-to-call item `outbox_id`, as it asks Twilio."""
        return PlacedCall(
            sid=new_sid("CA"),
            to=mobile,
            from_number=line,
            url=self.twilio.url(connect_path(outbox_id)),
            status_callback=self.twilio.url(STATUS),
        )

    async def take_placed_call(
        self,
        placed: PlacedCall,
        *,
        recruiter: RecruiterDoes,
        callee: CalleeDoes = CalleeDoes.ANSWERS,
        leg_reported_first: bool = True,
    ) -> CallRecord:
        """Ring the recruiter's mobile for a call the service placed, then play its TwiML."""
        record = CallRecord(placed.sid)
        params = self.twilio.call_params(
            placed.sid,
            caller=placed.from_number,
            called=placed.to,
            direction="outbound-api",
        )
        await self._progress(record, placed, params, "initiated", "queued")
        await self._progress(record, placed, params, "ringing", "ringing")
        unanswered = {RecruiterDoes.NO_ANSWER: "no-answer", RecruiterDoes.BUSY: "busy"}
        if recruiter in unanswered:
            await self._progress(record, placed, params, "completed", unanswered[recruiter])
            return record
        params["CallStatus"] = "in-progress"
        await self._progress(record, placed, params, "answered", "in-progress")
        document = await self.twilio.fetch(record, Request(placed.url, params))
        key = KEY_PRESSED.get(recruiter)
        await _OnTheLine(self.twilio, record, params, callee, leg_reported_first, key).play(
            document
        )
        await self._progress(record, placed, params, "completed", "completed")
        return record

    async def _progress(
        self,
        record: CallRecord,
        placed: PlacedCall,
        params: dict[str, str],
        event: str,
        status: str,
    ) -> None:
        """The placed call's status callback for `event`, if it asked for that event."""
        if placed.status_callback is None or event not in placed.status_callback_events:
            return
        sequence = str(_PLACED_CALL_EVENTS.index(event))
        report = params | {"CallStatus": status, "SequenceNumber": sequence}
        if event == "completed":
            report["CallDuration"] = "60" if status == "completed" else "0"
        await self.twilio.notify(record, Request(placed.status_callback, report))


@dataclass
class _OnTheLine:
    """Plays TwiML to the recruiter on a call: what they hear, the key they press (if any),
    and the number the service dials for them."""

    twilio: TwilioSimulator
    record: CallRecord
    params: dict[str, str]
    callee: CalleeDoes
    leg_reported_first: bool
    key: str | None = None

    async def play(self, document: ET.Element | None) -> None:
        """Run the TwiML, following each action, until the call ends."""
        players = {"Gather": self._gather, "Dial": self._dial}
        heard = self.record.recruiter_heard
        await play_twiml(document, heard=heard, players=players, who="a recruiter")

    async def _gather(self, verb: ET.Element) -> ET.Element | None | GoOn:
        self.record.recruiter_heard.extend(say.text or "" for say in verb.iter("Say"))
        if self.key is None:
            return GO_ON  # no key pressed: Twilio goes on to the verb after the <Gather>
        request = Request(action_of(verb), self.params | {"Digits": self.key})
        return await self.twilio.fetch(self.record, request)

    async def _dial(self, dial: ET.Element) -> ET.Element:
        """Dial the callee; report the leg's end to its status callback and the Dial action."""
        number = dial.find("Number")
        if number is None or not number.text:
            raise FlowError("<Dial> without a <Number>")
        status = self.callee.value
        self.record.bridged = self.callee is CalleeDoes.ANSWERS
        leg_sid = new_sid("CA")
        leg = self._leg(leg_sid, dial.get("callerId") or self.params["From"], number.text, status)
        callback = number.get("statusCallback")
        events = number.get("statusCallbackEvent", "completed").split()
        reports = [Request(callback, leg)] if callback and "completed" in events else []
        result = self.params | {
            "CallStatus": "in-progress",
            "DialCallSid": leg_sid,
            "DialCallStatus": status,
            "DialCallDuration": leg.get("CallDuration", "0"),
            "DialBridged": "true" if self.record.bridged else "false",
        }
        if self.leg_reported_first:
            for report in reports:
                await self.twilio.notify(self.record, report)
        answer = await self.twilio.fetch(self.record, Request(action_of(dial), result))
        if not self.leg_reported_first:
            for report in reports:
                await self.twilio.notify(self.record, report)
        return answer

    def _leg(self, leg_sid: str, caller_id: str, number: str, status: str) -> dict[str, str]:
        leg = self.twilio.call_params(
            leg_sid,
            caller=caller_id,
            called=number,
            direction="outbound-dial",
            status=status,
        ) | {
            "ParentCallSid": self.record.call_sid,
            "SequenceNumber": "0",
            "CallbackSource": "call-progress-events",
        }
        if status == CalleeDoes.ANSWERS.value:
            leg["CallDuration"] = "42"
        return leg
