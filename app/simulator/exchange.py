"""What the simulator sends and gets: scripts of calls, signed requests, the TwiML answers."""

import secrets
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

import httpx

from app.twilio.twiml import ACCEPT_DIGIT

API_VERSION = "2010-04-01"


class FlowError(Exception):
    """The service answered something Twilio could not run (the caller hears an error).

    `status_code` is the HTTP status of the answer, when the service answered one but 200.
    """

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class RecruiterDoes(StrEnum):
    """What happens on the recruiter's mobile when the line forwards a call."""

    ACCEPTS = "accepts"  # picks up and presses 1
    DECLINES = "declines"  # picks up and presses another key
    CARRIER_VOICEMAIL = "carrier_voicemail"  # the mobile's own voicemail picks up
    NO_ANSWER = "no_answer"
    BUSY = "busy"


# The key the recruiter presses on picking up, when the service asks for one.
KEY_PRESSED = {RecruiterDoes.ACCEPTS: ACCEPT_DIGIT, RecruiterDoes.DECLINES: "9"}


@dataclass(frozen=True)
class CallScript:
    """Who calls which line, what the recruiter does, and what the caller says after the tone."""

    caller: str
    line: str
    recruiter: RecruiterDoes = RecruiterDoes.NO_ANSWER
    message: str | None = None  # None: hangs up before the tone; "": stays silent
    message_seconds: int = 15
    caller_name: str | None = None


@dataclass(frozen=True)
class Request:
    """A webhook as Twilio sends it: an absolute URL and form parameters."""

    url: str
    params: Mapping[str, str]

    def but(self, **params: str) -> "Request":
        """The same request with some parameters changed."""
        return replace(self, params={**self.params, **params})


@dataclass(frozen=True)
class Exchange:
    request: Request
    status_code: int
    body: str

    def twiml(self) -> ET.Element:
        """The TwiML document of the answer."""
        try:
            document = ET.fromstring(self.body)
        except ET.ParseError as exc:
            raise FlowError(f"{self.request.url} answered no TwiML: {self.body[:200]!r}") from exc
        if document.tag != "Response":
            raise FlowError(f"{self.request.url} answered <{document.tag}>, not <Response>")
        return document

    def messages(self) -> list[str]:
        """The texts of the `<Message>`s a messaging TwiML answer asks Twilio to send."""
        return [message.text or "" for message in self.twiml().iter("Message")]


@dataclass
class CallRecord:
    """Everything that went over the wire for one call, and what the people heard."""

    call_sid: str
    exchanges: list[Exchange] = field(default_factory=list)
    caller_heard: list[str] = field(default_factory=list)
    recruiter_heard: list[str] = field(default_factory=list)
    bridged: bool = False
    recording_sid: str | None = None

    def sent_to(self, path: str) -> list[Exchange]:
        """The exchanges with the URL whose path is `path`."""
        return [e for e in self.exchanges if httpx.URL(e.request.url).path == path]


def new_sid(prefix: str) -> str:
    """A random SID of Twilio's shape (two letters, 32 hex digits)."""
    return prefix + secrets.token_hex(16)


def action_of(verb: ET.Element) -> str:
    """The URL a `<Dial>`, `<Gather>` or `<Record>` reports to; FlowError if it names none."""
    action = verb.get("action")
    if not action:
        # Without an action Twilio requests the current document again: the flow loops.
        raise FlowError(f"<{verb.tag}> names no action")
    return action


class GoOn:
    """A verb handler's answer: the document goes on with the next verb."""


GO_ON = GoOn()
VerbPlayer = Callable[[ET.Element], Awaitable[ET.Element | None | GoOn]]


async def play_twiml(
    document: ET.Element | None,
    *,
    heard: list[str],
    players: Mapping[str, VerbPlayer],
    who: str,
) -> None:
    """Run TwiML as Twilio does until the call ends: `<Say>` is heard, `<Pause>` waits,
    `<Hangup>` ends, a player's answer replaces the document (None ends the call)."""
    while document is not None:
        document = await _play_verbs(document, heard=heard, players=players, who=who)


async def _play_verbs(
    document: ET.Element, *, heard: list[str], players: Mapping[str, VerbPlayer], who: str
) -> ET.Element | None:
    for verb in document:
        if verb.tag == "Say":
            heard.append(verb.text or "")
        elif verb.tag in players:
            answer = await players[verb.tag](verb)
            if not isinstance(answer, GoOn):
                return answer
        elif verb.tag == "Hangup":
            return None
        elif verb.tag != "Pause":
            raise FlowError(f"the simulator cannot play <{verb.tag}> to {who}")
    return None
