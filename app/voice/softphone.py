"""The softphone route: a recruiter dials out through the TwiML App, from their own line.

Twilio asks `/twilio/voice/outbound` what to do with a call from `client:alice` (Voice
SDK) or `sip:alice@example.sip.twilio.com` (a SIP domain). The identity names the
recruiter (`client_identity`); the number is `To` (the SDK passes it as a parameter), or
the user part of a SIP `To` URI.
"""

import re
from dataclasses import dataclass, replace
from enum import StrEnum
from urllib.parse import unquote

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Obligation, ObligationStatus, Recruiter
from app.obligations.service import CallFacts, claim_call
from app.phones import caller_number
from app.recruiters.service import active_by_identity

SCHEMES = ("client:", "sip:", "sips:")
_USER_END = re.compile(r"[@;?]")


class Refusal(StrEnum):
    """Why a softphone call is not dialled (also the webhook metric's outcome label)."""

    UNKNOWN_IDENTITY = "unknown_identity"
    NOT_A_NUMBER = "not_a_number"


@dataclass(frozen=True)
class DialOut:
    """Whom to dial for whom, and the open obligation that call may return."""

    recruiter: Recruiter
    number: str
    obligation_id: int | None


def identity_of(address: str) -> str | None:
    """`alice` of `client:alice` or `sip:alice@host;transport=tls`; None for a phone number."""
    text = address.strip()
    for scheme in SCHEMES:
        if text[: len(scheme)].lower() == scheme:
            return unquote(_USER_END.split(text[len(scheme) :], maxsplit=1)[0]) or None
    return None


def requested_number(to: str, region: str) -> str | None:
    """The E.164 number a softphone asked for, or None if `To` names none (`client:bob`)."""
    if to.strip().lower().startswith("client:"):
        return None
    return caller_number(identity_of(to) or to, region)


async def on_outbound(session: AsyncSession, *, call: CallFacts, region: str) -> DialOut | Refusal:
    """Log the softphone's call under its recruiter; what to dial, or why not."""
    identity = identity_of(call.from_number)
    recruiter = await active_by_identity(session, identity) if identity else None
    await claim_call(session, call=replace(call, recruiter_id=recruiter.id if recruiter else None))
    if recruiter is None:
        return Refusal.UNKNOWN_IDENTITY
    number = requested_number(call.to_number, region)
    if number is None:
        return Refusal.NOT_A_NUMBER
    return DialOut(recruiter, number, await _owed(session, recruiter.id, number))


async def _owed(session: AsyncSession, recruiter_id: int, caller: str) -> int | None:
    obligation_id: int | None = await session.scalar(
        select(Obligation.id).where(
            Obligation.recruiter_id == recruiter_id,
            Obligation.caller == caller,
            Obligation.status == ObligationStatus.OPEN,
        )
    )
    return obligation_id
