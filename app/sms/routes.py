"""/twilio/sms/* routes: SMS to a line (commands, relays), and delivery reports of SMS sent."""

from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.http.deps import ClockDep, SessionDep, SettingsDep
from app.http.twilio_params import TwilioParamsDep
from app.metrics import WEBHOOKS
from app.sms.delivery import record_delivery
from app.sms.inbound import IncomingSms, on_incoming
from app.twilio import messaging

router = APIRouter(prefix="/twilio/sms", tags=["twilio"])


@router.post(
    messaging.INCOMING.removeprefix(router.prefix),
    summary="An SMS to a line: a recruiter's command (TwiML reply), or a text to relay",
    response_class=Response,
    responses={200: {"content": {"text/xml": {}}}},
)
async def sms_incoming(
    params: TwilioParamsDep, session: SessionDep, settings: SettingsDep, clock: ClockDep
) -> Response:
    sms = IncomingSms(
        message_sid=params.sid("MessageSid"),
        from_number=params.number("From"),
        to_number=params.number("To"),
        body=params.get("Body", ""),
        at=clock.now(),
    )
    handled = await on_incoming(session, sms=sms, settings=settings)
    WEBHOOKS.labels("sms_incoming", handled.kind).inc()
    return Response(messaging.reply(handled.reply), media_type="text/xml")


@router.post(
    messaging.STATUS.removeprefix(router.prefix),
    status_code=204,
    summary="Delivery report of an SMS the service sent",
)
async def sms_status(
    params: TwilioParamsDep,
    session: SessionDep,
    clock: ClockDep,
    outbox: Annotated[
        str | None,
        # Plain ASCII digits, as the service writes them (an int would also read `+1`, ` 1`
        # or `1_0`); 18 at most, so any value fits the BIGINT id.
        Query(pattern=r"^[1-9][0-9]{0,17}$", description="The outbox item the SMS was sent for"),
    ] = None,
) -> Response:
    await record_delivery(
        session,
        outbox_id=int(outbox) if outbox else None,
        message_sid=params.sid("MessageSid"),
        status=params.require("MessageStatus"),
        error_code=params.integer("ErrorCode"),
        at=clock.now(),
    )
    return Response(status_code=204)
