"""`callpledge simulate`'s scenarios: Twilio's part in a call or an SMS, played against a service.

Each one sends what Twilio would send, signed with the service's auth token for its
PUBLIC_BASE_URL, through TwilioSimulator, and returns what came back.
"""

from dataclasses import dataclass

import httpx

from app.config import Settings
from app.simulator.exchange import Exchange, FlowError, Request, new_sid
from app.simulator.twilio import TwilioSimulator
from app.sms.command_parser import LARGEST_ID, parse
from app.twilio.twiml import STATUS

# What a callback that connected lasts, in the status callback Twilio sends.
CALLBACK_SECONDS = 95


def simulator(http: httpx.AsyncClient, settings: Settings) -> TwilioSimulator:
    """Twilio as the service configured by `settings` expects it (same token, same URLs)."""
    return TwilioSimulator(
        http,
        auth_token=settings.auth_token,
        public_base_url=settings.public_base_url,
        account_sid=settings.account_sid,
    )


async def callback(twilio: TwilioSimulator, *, line: str, callee: str, status: str) -> Exchange:
    """The status callback of a call from the recruiter's line, as an application that named
    /twilio/voice/status as its StatusCallback receives it when the call ends."""
    connected = status == "completed"
    call = twilio.call_params(
        new_sid("CA"),
        caller=line,
        called=callee,
        direction="outbound-api",
        status=status,
    )
    params = call | {
        "CallDuration": str(CALLBACK_SECONDS if connected else 0),
        "SequenceNumber": "3",
    }
    return await twilio.send(Request(twilio.url(STATUS), params))


@dataclass(frozen=True)
class Reply:
    """The SMS the service answered with in TwiML (empty: no reply)."""

    messages: tuple[str, ...]


def reply_of(exchange: Exchange) -> Reply:
    """The `<Message>` texts of a messaging TwiML answer."""
    if not exchange.body.strip():
        return Reply(())
    return Reply(tuple(text.strip() for text in exchange.messages()))


def obligation_mentioned(body: str) -> int | None:
    """The obligation id an SMS command names (`DONE 3`, `snooze #3 2h`), as the service reads
    it; None for a text it does not take as a command about one, or an id no obligation has."""
    mentioned = parse(body).obligation_id
    return mentioned if mentioned is not None and mentioned <= LARGEST_ID else None


def twiml_verbs(exchange: Exchange) -> list[str]:
    """The verbs of a TwiML answer, for showing what Twilio was told to do."""
    try:
        return [verb.tag for verb in exchange.twiml()]
    except FlowError:
        return []
