"""The /twilio/voice/* webhooks: parse the signed form, call one domain function, answer.

The flow, as Twilio runs it: `incoming` dials the recruiter's mobile; `screen` runs on
the recruiter's leg and only a key press bridges; the Dial action (`dial`) decides
taken or missed on `DialBridged`; a missed call gets the voicemail `<Record>`, whose
`recording` and `transcription` callbacks attach it. `status` keeps the call log and
sees misses of lines handled elsewhere (observe mode); `fallback` needs no database.

Calls a recruiter makes: `outbound` dials for their softphone, `connect` screens their
leg of a click-to-call and dials the caller; each such Dial reports to `callback` (its
action) and to `status` (its leg), and either report settles the callback.
"""

import logging
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.exc import IntegrityError

from app.db import is_foreign_key_violation
from app.errors import InvalidInput
from app.http.deps import RuntimeDep, SessionDep
from app.http.twilio_params import TwilioParamsDep
from app.metrics import WEBHOOKS
from app.obligations.service import CallFacts
from app.phones import mask
from app.twilio import twiml
from app.twilio.history import Recording
from app.twilio.webhooks import SID_MAX, TwilioParams
from app.voice import callbacks, event_time, forwarding, softphone, voicemails
from app.voice import click_to_call as clicktocall
from app.voice.call_log import INBOUND, StatusReport
from app.voice.voicemails import TranscriptReport

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
_NAME_MAX = 120
_STATUS_MAX = 24
_DIRECTION_MAX = 32
_URL_MAX = 500
_RECRUITER_ID_MAX = 2**31 - 1  # recruiters.id is a 32-bit integer
_ID_MAX = 2**63 - 1


async def _outbox_id(request: Request) -> int:
    """The click-to-call outbox item the URL names (`?outbox=`)."""
    return _query_id(request, "outbox")


OutboxId = Annotated[int, Depends(_outbox_id)]


@router.post(twiml.INCOMING)
async def incoming(params: TwilioParamsDep, session: SessionDep, runtime: RuntimeDep) -> Response:
    call = _call(params, runtime.clock.now())
    recruiter = await forwarding.on_incoming(session, call=call)
    if recruiter is None:
        log.info(
            "call %s to %s: no active recruiter has that line", call.call_sid, mask(call.to_number)
        )
        return _answer("incoming", forwarding.Outcome.UNKNOWN_LINE, runtime.twiml.out_of_service)
    document = runtime.twiml.forward(mobile=recruiter.mobile, recruiter_id=recruiter.id)
    return _answer("incoming", forwarding.Outcome.FORWARDED, document)


@router.post(twiml.SCREEN)
async def screen(_: TwilioParamsDep, runtime: RuntimeDep) -> Response:
    return _answer("screen", "prompted", runtime.twiml.screen)


@router.post(twiml.SCREEN_CHOICE)
async def screen_choice(params: TwilioParamsDep, runtime: RuntimeDep) -> Response:
    if params.get("Digits") == twiml.ACCEPT_DIGIT:
        return _answer("screen_choice", "accepted", runtime.twiml.connect)
    return _answer("screen_choice", "declined", runtime.twiml.hang_up)


@router.post(twiml.DIAL_RESULT)
async def dial_result(
    params: TwilioParamsDep, session: SessionDep, runtime: RuntimeDep, request: Request
) -> Response:
    bridged = params.require("DialBridged") == "true"
    try:
        outcome = await forwarding.on_dial_result(
            session,
            call=_call(params, runtime.clock.now()),
            recruiter_id=_query_id(request, "recruiter", maximum=_RECRUITER_ID_MAX),
            bridged=bridged,
            talked_seconds=params.integer("DialCallDuration"),
            region=runtime.settings.default_region,
            policy=runtime.policy,
        )
    except IntegrityError as exc:
        # Checked by the database, not by a look-up on every missed call: only a forged or
        # stale action URL names a recruiter that does not exist.
        if not is_foreign_key_violation(exc):
            raise
        raise _no_such_recruiter() from exc
    return _answer("dial", outcome, runtime.twiml.hang_up if bridged else runtime.twiml.voicemail)


@router.post(twiml.RECORDED)
async def recorded(_: TwilioParamsDep, runtime: RuntimeDep) -> Response:
    # The recording callbacks attach the voicemail; this only ends the call.
    return _answer("recorded", "done", runtime.twiml.goodbye)


@router.post(twiml.RECORDING)
async def recording(params: TwilioParamsDep, session: SessionDep, runtime: RuntimeDep) -> Response:
    reported = Recording(
        sid=params.sid("RecordingSid"),
        call_sid=params.sid("CallSid"),
        status=params.require("RecordingStatus", max_length=_STATUS_MAX),
        url=params.optional("RecordingUrl", max_length=_URL_MAX),
        duration_seconds=params.integer("RecordingDuration"),
        created_at=_event_time(params, event_time.RECORDING_TIME, runtime.clock.now()),
        error_code=params.get("ErrorCode") or None,
    )
    outcome = await voicemails.on_recording(
        session,
        recording=reported,
        region=runtime.settings.default_region,
        policy=runtime.policy,
    )
    return _done("recording", outcome)


@router.post(twiml.TRANSCRIPTION)
async def transcription(
    params: TwilioParamsDep, session: SessionDep, runtime: RuntimeDep
) -> Response:
    report = TranscriptReport(
        call_sid=params.sid("CallSid"),
        recording_sid=params.sid("RecordingSid"),
        status=params.require("TranscriptionStatus", max_length=_STATUS_MAX),
        text=params.get("TranscriptionText"),
        recording_url=params.optional("RecordingUrl", max_length=_URL_MAX),
        at=runtime.clock.now(),
    )
    outcome = await voicemails.on_transcript(
        session, report=report, region=runtime.settings.default_region, policy=runtime.policy
    )
    return _done("transcription", outcome)


@router.post(twiml.STATUS)
async def status(params: TwilioParamsDep, session: SessionDep, runtime: RuntimeDep) -> Response:
    params.require("CallStatus")
    report = StatusReport(
        call=_call(params, _event_time(params, event_time.STATUS_TIME, runtime.clock.now())),
        sequence_number=params.integer("SequenceNumber"),
        duration_seconds=params.integer("CallDuration"),
    )
    outcome = await forwarding.on_status(
        session, report=report, region=runtime.settings.default_region, policy=runtime.policy
    )
    return _done("status", outcome)


@router.post(twiml.OUTBOUND)
async def outbound(params: TwilioParamsDep, session: SessionDep, runtime: RuntimeDep) -> Response:
    call = _call(params, runtime.clock.now())
    dial = await softphone.on_outbound(session, call=call, region=runtime.settings.default_region)
    if dial is softphone.Refusal.UNKNOWN_IDENTITY:
        log.info("softphone call %s: no active recruiter has that identity", call.call_sid)
        return _answer("outbound", dial, runtime.twiml.not_a_softphone)
    if dial is softphone.Refusal.NOT_A_NUMBER:
        return _answer("outbound", dial, runtime.twiml.not_a_number)
    document = runtime.twiml.call_back(
        line=dial.recruiter.line, number=dial.number, obligation_id=dial.obligation_id
    )
    return _answer("outbound", "dialled", document)


@router.post(twiml.CONNECT)
async def connect(
    _: TwilioParamsDep, session: SessionDep, runtime: RuntimeDep, outbox_id: OutboxId
) -> Response:
    target = await clicktocall.target_of(session, outbox_id=outbox_id)
    if target is None:
        return _answer("connect", "nothing_to_call", runtime.twiml.nothing_to_call)
    document = runtime.twiml.click_to_call_screen(outbox_id=outbox_id, prompt=target.prompt())
    return _answer("connect", "prompted", document)


@router.post(twiml.CONNECT_CHOICE)
async def connect_choice(
    params: TwilioParamsDep, session: SessionDep, runtime: RuntimeDep, outbox_id: OutboxId
) -> Response:
    if params.get("Digits") != twiml.ACCEPT_DIGIT:
        return _answer("connect_choice", "declined", runtime.twiml.hang_up)
    # Looked up again: the obligation may have closed while the recruiter's phone rang.
    target = await clicktocall.target_of(session, outbox_id=outbox_id)
    if target is None:
        return _answer("connect_choice", "nothing_to_call", runtime.twiml.nothing_to_call)
    document = runtime.twiml.call_back(
        line=target.line,
        number=target.caller,
        obligation_id=target.obligation_id,
        announce=target.announcement(),
    )
    return _answer("connect_choice", "dialled", document)


@router.post(twiml.CALLBACK_RESULT)
async def callback_result(
    params: TwilioParamsDep, session: SessionDep, runtime: RuntimeDep, request: Request
) -> Response:
    dial_status = params.require("DialCallStatus", max_length=_STATUS_MAX)
    settled = await callbacks.on_dial_action(
        session,
        parent=_call(params, runtime.clock.now()),
        leg_sid=params.optional_sid("DialCallSid"),
        dial_status=dial_status,
        talked_seconds=params.integer("DialCallDuration"),
        obligation_id=_optional_id(request, "obligation"),
        region=runtime.settings.default_region,
        policy=runtime.policy,
    )
    noted = callbacks.attempt_noted(settled, dial_status)
    return _answer(
        "callback", settled, runtime.twiml.no_answer_noted if noted else runtime.twiml.hang_up
    )


@router.post(twiml.FALLBACK)
async def fallback(params: TwilioParamsDep, runtime: RuntimeDep) -> Response:
    # No database here: this runs when the primary handler failed, perhaps for want of one.
    log.warning(
        "fallback answered call %s (Twilio error %s)",
        params.get("CallSid"),
        params.get("ErrorCode"),
    )
    return _answer("fallback", "voicemail", runtime.twiml.voicemail)


def _call(params: TwilioParams, at: datetime) -> CallFacts:
    """The call a webhook speaks about, clipped to what the call log holds."""
    return CallFacts(
        call_sid=params.sid("CallSid"),
        direction=params.get("Direction", "")[:_DIRECTION_MAX] or INBOUND,
        from_number=params.number("From"),
        to_number=params.number("To"),
        status=params.get("CallStatus", "")[:_STATUS_MAX] or "ringing",
        at=at,
        parent_call_sid=params.get("ParentCallSid", "")[:SID_MAX] or None,
        caller_name=params.get("CallerName", "")[:_NAME_MAX] or None,
    )


def _event_time(params: TwilioParams, name: str, arrival: datetime) -> datetime:
    """Twilio's time of the event (`name`), near arrival; arrival when it sends none."""
    return event_time.reported_at(params.get(name), arrival=arrival)


def _query_id(request: Request, name: str, maximum: int = _ID_MAX) -> int:
    """An id named in the signed URL we handed Twilio (`?recruiter=`, `?outbox=`...)."""
    raw = request.query_params.get(name)
    if raw is None:
        log.warning("webhook %s lacks the query parameter %s", request.url.path, name)
        raise InvalidInput(f"the query parameter {name} is required")
    # Only plain ASCII digits: int() also reads `+1`, ` 1`, `1_0` and other scripts' digits,
    # none of which the service ever writes into a URL (and refuses over 4,300 digits).
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 19 and 0 < int(raw) <= maximum):
        log.warning("webhook %s names an impossible %s", request.url.path, name)
        raise InvalidInput(f"the query parameter {name} names nothing")
    return int(raw)


def _optional_id(request: Request, name: str) -> int | None:
    return _query_id(request, name) if name in request.query_params else None


def _no_such_recruiter() -> InvalidInput:
    log.warning("Dial action for a recruiter that does not exist")
    return InvalidInput("the query parameter recruiter names no recruiter")


def _answer(kind: str, outcome: str, document: str) -> Response:
    WEBHOOKS.labels(f"voice_{kind}", outcome).inc()
    return Response(document, media_type="text/xml")


def _done(kind: str, outcome: str) -> Response:
    WEBHOOKS.labels(f"voice_{kind}", outcome).inc()
    return Response(status_code=204)
