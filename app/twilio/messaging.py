"""The SMS webhooks' paths, and the TwiML that answers an incoming SMS."""

from twilio.twiml.messaging_response import MessagingResponse

from app.twilio.twiml import xml_safe

INCOMING = "/twilio/sms/incoming"
STATUS = "/twilio/sms/status"
NO_REPLY = str(MessagingResponse())


def status_path(outbox_id: int) -> str:
    """The delivery reports' path for an outbox item's SMS (the id comes back with each)."""
    return f"{STATUS}?outbox={outbox_id}"


def reply(text: str | None) -> str:
    """`<Response><Message>text</Message></Response>`, or an empty `<Response/>` for None."""
    if not text:
        return NO_REPLY
    response = MessagingResponse()
    response.message(xml_safe(text))
    return str(response)
