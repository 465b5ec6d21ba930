"""Outgoing Twilio work, one place per kind: create an SMS or a call, or find one already made.

Every method blocks (the twilio library uses requests): the worker runs them in a thread.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from app.config import Settings
from app.models import OutboxKind
from app.phones import mask
from app.twilio import messaging, twiml
from app.twilio.client import build_client

log = logging.getLogger(__name__)
T = TypeVar("T")

CALL_EVENTS = ["initiated", "ringing", "answered", "completed"]
# A crashed attempt is at most a lease old, so it sits near the top of a newest-first list.
_LOOKUP_LIMIT = 100
# Twilio's clock and ours disagree a little; a resource this much older still counts.
_CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Outgoing:
    """One claimed outbox item, as the transport needs it."""

    id: int
    kind: OutboxKind
    to_number: str
    from_number: str | None
    body: str | None
    created_at: datetime


Finder = Callable[[Outgoing], list[str]]


class SendError(Exception):
    """Twilio refused the request or could not be reached; `permanent` means: do not retry."""

    def __init__(self, message: str, *, code: int | None = None, permanent: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.permanent = permanent


class Transport(Protocol):
    def send(self, item: Outgoing) -> str | None:
        """Hand the item to Twilio; its SID (None when nothing was really sent)."""
        ...

    def find(self, item: Outgoing) -> list[str]:
        """SIDs, newest first, of resources Twilio holds that an earlier attempt may have made."""
        ...


class TwilioTransport:
    """Sends through the Twilio REST API with the twilio library."""

    def __init__(self, settings: Settings, client: Client | None = None) -> None:
        self._settings = settings
        self._client = client or build_client(settings)
        # Each kind of outbox item: how to make it, and how to find it made.
        self._kinds: dict[OutboxKind, tuple[Callable[[Outgoing], str], Finder]] = {
            OutboxKind.SMS: (self._send_sms, self._find_sms),
            OutboxKind.CALL: (self._place_call, self._find_call),
        }
        # It logs every request's query (phone numbers) at INFO.
        logging.getLogger("twilio.http_client").setLevel(logging.WARNING)

    def send(self, item: Outgoing) -> str | None:
        return _guarded(self._kinds[item.kind][0], item)

    def find(self, item: Outgoing) -> list[str]:
        return _guarded(self._kinds[item.kind][1], item)

    def _send_sms(self, item: Outgoing) -> str:
        service = self._settings.twilio_messaging_service_sid
        sender: dict[str, Any] = (
            {"messaging_service_sid": service} if service else {"from_": item.from_number}
        )
        message = self._client.messages.create(
            to=item.to_number,
            body=item.body,
            status_callback=self._settings.public_url(messaging.status_path(item.id)),
            **sender,
        )
        return str(message.sid)

    def _place_call(self, item: Outgoing) -> str:
        call = self._client.calls.create(
            to=item.to_number,
            from_=item.from_number,
            url=self._settings.public_url(twiml.connect_path(item.id)),
            status_callback=self._settings.public_url(twiml.STATUS),
            status_callback_event=CALL_EVENTS,
        )
        return str(call.sid)

    def _find_sms(self, item: Outgoing) -> list[str]:
        # The list filters on To, From and DateSent only, and a queued message has no
        # DateSent: filter on the numbers and recognise ours by its body.
        service = self._settings.twilio_messaging_service_sid
        sender: dict[str, Any] = {} if service else {"from_": item.from_number}
        messages = self._client.messages.list(to=item.to_number, limit=_LOOKUP_LIMIT, **sender)
        return [
            str(message.sid)
            for message in messages
            if (message.body or "").strip() == (item.body or "").strip()
            and (not service or message.messaging_service_sid == service)
            and _since(message.date_created, item.created_at)
        ]

    def _find_call(self, item: Outgoing) -> list[str]:
        calls = self._client.calls.list(
            to=item.to_number, from_=item.from_number, limit=_LOOKUP_LIMIT
        )
        return [
            str(call.sid)
            for call in calls
            if call.direction == "outbound-api" and _since(call.date_created, item.created_at)
        ]


class ConsoleTransport:
    """SMS_BACKEND=console: print what would be sent; nothing leaves the machine."""

    def send(self, item: Outgoing) -> str | None:
        if item.kind is OutboxKind.SMS:
            text = f"--- SMS to {item.to_number} from {item.from_number} ---\n{item.body}\n---"
        else:
            text = f"--- CALL to {item.to_number} from {item.from_number} ---"
        print(text, flush=True)
        log.info("console backend: printed outbox item %s (%s)", item.id, item.kind.value)
        return None

    def find(self, item: Outgoing) -> list[str]:
        return []  # nothing printed can be looked up; printing twice harms nobody


class ConsoleSmsTransport:
    """SMS_BACKEND=console with real credentials: SMS are printed, but a click-to-call is a
    real call between two phones (printing it would leave a recruiter waiting), so it is
    placed through Twilio."""

    def __init__(self, calls: Transport) -> None:
        self._console = ConsoleTransport()
        self._calls = calls

    def send(self, item: Outgoing) -> str | None:
        return self._for(item).send(item)

    def find(self, item: Outgoing) -> list[str]:
        return self._for(item).find(item)

    def _for(self, item: Outgoing) -> Transport:
        return self._console if item.kind is OutboxKind.SMS else self._calls


def transport_for(settings: Settings) -> Transport:
    """Twilio when the settings send through it; SMS on the console but calls through Twilio
    when only SMS_BACKEND=console says otherwise; else (demo mode) the console."""
    if settings.sends_through_twilio:
        return TwilioTransport(settings)
    if settings.twilio_account_sid is not None and settings.twilio_auth_token is not None:
        return ConsoleSmsTransport(TwilioTransport(settings))
    return ConsoleTransport()


def _guarded(action: Callable[[Outgoing], T], item: Outgoing) -> T:
    """Run a REST call, turning every failure into a SendError that says whether to retry."""
    try:
        return action(item)
    except TwilioRestException as exc:
        raise _refusal(exc, item) from exc
    except (requests.RequestException, TwilioException) as exc:
        log.warning("outbox item %s: Twilio unreachable (%s)", item.id, type(exc).__name__)
        raise SendError(f"network: {type(exc).__name__}") from exc


def _refusal(exc: TwilioRestException, item: Outgoing) -> SendError:
    # 429 and 5xx pass; a 401 is this service's credentials, wrong for every message alike.
    # Any other 4xx (21610 unsubscribed, 21211/21614 bad number, ...) will never succeed.
    permanent = 400 <= exc.status < 500 and exc.status not in (401, 429)
    log.warning(
        "outbox item %s to %s: Twilio answered %s (code %s)",
        item.id,
        mask(item.to_number),
        exc.status,
        exc.code,
    )
    message = f"{exc.status} {exc.code or ''} {exc.msg}".strip()
    return SendError(message[:500], code=exc.code or exc.status, permanent=permanent)


def _since(created: datetime | None, floor: datetime) -> bool:
    return created is not None and created >= floor - _CLOCK_SKEW
