"""/twilio/sms/* routes: delivery reports of the SMS the worker sends."""

from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.delivery import record_delivery
from app.deps import ClockDep, SessionDep
from app.twilio.webhooks import TwilioParamsDep

router = APIRouter(prefix="/twilio/sms", tags=["twilio"])


@router.post("/status", status_code=204, summary="Delivery report of an SMS the service sent")
async def sms_status(
    params: TwilioParamsDep,
    session: SessionDep,
    clock: ClockDep,
    outbox: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="The outbox item the SMS was sent for")
    ] = None,
) -> Response:
    await record_delivery(
        session,
        outbox_id=outbox,
        message_sid=params.require("MessageSid", max_length=64),
        status=params.require("MessageStatus"),
        error_code=params.integer("ErrorCode"),
        at=clock.now(),
    )
    return Response(status_code=204)
