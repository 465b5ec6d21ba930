"""The SMS webhooks' paths, and the TwiML that answers an incoming SMS."""

from twilio.twiml.messaging_response import MessagingResponse

INCOMING = "/twilio/sms/incoming"
STATUS = "/twilio/sms/status"
NO_REPLY = str(MessagingResponse())


def reply(text: str | None) -> str:
    """`<Response><Message>text</Message></Response>`, or an empty `<Response/>` for None."""
    if not text:
        return NO_REPLY
    response = MessagingResponse()
    response.message(text)
    return str(response)
