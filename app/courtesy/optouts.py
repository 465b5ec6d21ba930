"""Callers a line must not text (they texted STOP, or their number is a landline), and the
caller's own texts to a line: opt-out words, and replies on the open obligation's timeline."""

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import dialect_insert
from app.models import CallerOptOut, Obligation, ObligationStatus, Recruiter
from app.obligations.timeline import EventKind, note

OPTED_OUT, LANDLINE = "opted_out", "landline"
_BODY_MOST = 500
# Twilio's opt-out and opt-in words (acted on only as the whole message, as Twilio does).
OPT_OUT_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
)
OPT_IN_WORDS = frozenset({"START", "UNSTOP", "YES"})


def keyword(body: str) -> str:
    """The text as one upper-case word run, without trailing punctuation (`Stop.` is STOP)."""
    return " ".join(body.split()).upper().strip(" .,;:!'\"")


async def block(
    session: AsyncSession, *, line: str, caller: str, reason: str, at: datetime
) -> None:
    """The line texts `caller` no more (`reason`: opted_out or landline)."""
    insert = dialect_insert(session)(CallerOptOut).values(
        line=line, caller=caller, reason=reason, at=at
    )
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=[CallerOptOut.line, CallerOptOut.caller],
            set_={"reason": reason, "at": at},
        )
    )


async def blocked(session: AsyncSession, *, line: str, caller: str) -> str | None:
    """Why the line may not text `caller` (opted_out, landline), or None."""
    reason: str | None = await session.scalar(
        select(CallerOptOut.reason).where(CallerOptOut.line == line, CallerOptOut.caller == caller)
    )
    return reason


async def on_caller_sms(
    session: AsyncSession,
    *,
    owner: Recruiter,
    sender: str,
    body: str,
    message_sid: str,
    at: datetime,
) -> None:
    """A caller texted the line: STOP words block it, START words unblock it, and the text
    goes on the timeline of the caller's open obligation, if there is one."""
    word = keyword(body)
    if word in OPT_OUT_WORDS:
        await block(session, line=owner.line, caller=sender, reason=OPTED_OUT, at=at)
    elif word in OPT_IN_WORDS:
        await session.execute(
            delete(CallerOptOut).where(
                CallerOptOut.line == owner.line,
                CallerOptOut.caller == sender,
                CallerOptOut.reason == OPTED_OUT,
            )
        )
    obligation_id = await session.scalar(
        select(Obligation.id).where(
            Obligation.recruiter_id == owner.id,
            Obligation.caller == sender,
            Obligation.status == ObligationStatus.OPEN,
        )
    )
    if obligation_id is not None:
        detail = {"message_sid": message_sid, "body": body[:_BODY_MOST]}
        await note(session, obligation_id, EventKind.CALLER_SMS, actor="caller", at=at, **detail)
