"""SMS that reach a line: a recruiter's command carried out, anyone else's text relayed.

A text from an active recruiter's mobile (to any line) is a command on their own
obligations. A text from anyone else goes on to the mobile of the recruiter whose line it
reached, with the sender named; it changes no obligation and gets no reply.

Twilio may deliver one message again. Its MessageSid's row in `inbound_messages` is
written first, and the unique key settles any race: a message seen before gets the reply
it got then, and nothing is done twice.
"""

import logging
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.courtesy.optouts import on_caller_sms
from app.courtesy.policy import Courtesy
from app.db import dialect_insert
from app.models import InboundMessage, OutboxKind
from app.outbox.service import enqueue
from app.phones import caller_number, for_people
from app.recruiters.service import active_by_line, active_by_mobile
from app.sms.command_parser import parse
from app.sms.commands import Sender, carry_out

log = logging.getLogger(__name__)

RELAY = "relay"
RELAYED, UNROUTED, REPEATED = "relayed", "unrouted", "repeated"
# Twilio's limit for one message's body.
_BODY_MOST = 1600
_SENDER_MOST = 24


@dataclass(frozen=True)
class IncomingSms:
    """What Twilio tells about one SMS to a line."""

    message_sid: str
    from_number: str
    to_number: str
    body: str
    at: datetime

    def row_values(self) -> dict[str, Any]:
        """The `inbound_messages` columns these facts fill (the fields are named after them;
        `at` is when it was received)."""
        values = asdict(self)
        values["received_at"] = values.pop("at")
        return values


@dataclass(frozen=True)
class Handled:
    """What became of an SMS: `kind` is the command's verb, `relayed`, `unrouted` (a line
    nobody has) or `repeated` (delivered before); `reply` is the text to answer with."""

    kind: str
    reply: str | None


async def on_incoming(session: AsyncSession, *, sms: IncomingSms, settings: Settings) -> Handled:
    """Carry out a recruiter's command, or relay a stranger's text; what to reply."""
    sender = caller_number(sms.from_number, settings.default_region)
    recruiter = await active_by_mobile(session, sender) if sender else None
    if recruiter is None:
        return await _relay(session, sms=sms, sender=sender, region=settings.default_region)
    command = parse(sms.body)
    if not await _first_time(session, sms=sms, recruiter_id=recruiter.id, kind=command.verb):
        return Handled(REPEATED, await _earlier_reply(session, sms.message_sid))
    reply = await carry_out(
        session,
        command=command,
        sender=Sender(recruiter, sms.message_sid, sms.at, Courtesy.of(settings)),
        settings=settings,
    )
    await session.execute(
        update(InboundMessage)
        .where(InboundMessage.message_sid == sms.message_sid)
        .values(reply=reply)
    )
    return Handled(command.verb, reply)


async def _relay(
    session: AsyncSession, *, sms: IncomingSms, sender: str | None, region: str
) -> Handled:
    owner = await active_by_line(session, caller_number(sms.to_number, region) or sms.to_number)
    kind = RELAYED if owner else UNROUTED
    recruiter_id = owner.id if owner else None
    if not await _first_time(session, sms=sms, recruiter_id=recruiter_id, kind=kind):
        return Handled(REPEATED, None)
    if owner is None:
        log.info("SMS %s reached a line no active recruiter has", sms.message_sid)
        return Handled(kind, None)
    if sender is not None:
        await on_caller_sms(
            session,
            owner=owner,
            sender=sender,
            body=sms.body,
            message_sid=sms.message_sid,
            at=sms.at,
        )
    await enqueue(
        session,
        key=f"{RELAY}:{sms.message_sid}",
        kind=OutboxKind.SMS,
        purpose=RELAY,
        sender=owner,
        body=relay_text(sender or sms.from_number, sms.body),
        at=sms.at,
    )
    log.info("SMS %s relayed to recruiter %s", sms.message_sid, owner.id)
    return Handled(kind, None)


def relay_text(sender: str, body: str) -> str:
    """The relayed SMS: the sender, formatted for people, then their text."""
    who = for_people(sender) if sender.startswith("+") else sender[:_SENDER_MOST]
    head = f"SMS from {who}: "
    return head + (body.strip() or "(no text)")[: _BODY_MOST - len(head)]


async def _first_time(
    session: AsyncSession, *, sms: IncomingSms, recruiter_id: int | None, kind: str
) -> bool:
    """Log the message; False if its MessageSid was logged before (a repeated delivery)."""
    statement = (
        dialect_insert(session)(InboundMessage)
        .values(**sms.row_values(), recruiter_id=recruiter_id, kind=kind)
        .on_conflict_do_nothing(index_elements=[InboundMessage.message_sid])
        .returning(InboundMessage.id)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None


async def _earlier_reply(session: AsyncSession, message_sid: str) -> str | None:
    reply: str | None = await session.scalar(
        select(InboundMessage.reply).where(InboundMessage.message_sid == message_sid)
    )
    return reply
