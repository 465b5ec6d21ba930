"""A recruiter's SMS command carried out on their own obligations, and the reply it gets.

Only the sender's own obligations are theirs to act on. Any other id, unknown or another
recruiter's, gets one and the same refusal, which says nothing about whose it is.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.courtesy.closing import queue_close_text
from app.courtesy.policy import Courtesy
from app.durations import elapsed
from app.models import CloseReason, Obligation, ObligationStatus, Recruiter
from app.obligations.service import close, snooze
from app.obligations.timeline import recruiter_actor
from app.phones import for_people
from app.sms.command_parser import DEFAULT_SNOOZE, LARGEST_ID, Command, Verb
from app.sms.delivery import opted_in, opted_out
from app.sms.segments import fits
from app.voice.click_to_call import request_call

HELP = (
    "Callpledge: DONE 12 closes #12, SNOOZE 12 2h pauses its reminders, CALL 12 rings you "
    "and connects you to the caller, LIST shows what is open."
)
_LISTED_MOST = 30  # more never fit in one SMS


@dataclass(frozen=True)
class Sender:
    """Who texted the command, in which message, and when it arrived."""

    recruiter: Recruiter
    message_sid: str
    at: datetime
    courtesy: Courtesy | None = None  # with close_text on, DONE tells the caller

    @property
    def actor(self) -> str:
        """How the timeline names the recruiter acting."""
        return recruiter_actor(self.recruiter.id)


async def carry_out(
    session: AsyncSession, *, command: Command, sender: Sender, settings: Settings
) -> str | None:
    """Do what `command` asks; the reply's text (None: no reply, as after STOP)."""
    if command.verb is Verb.HELP:
        return HELP
    if command.verb is Verb.LIST:
        return await _list(session, sender)
    if command.verb is Verb.START:
        await opted_in(session, recruiter=sender.recruiter, at=sender.at)
        return "Reminders by SMS are on again. Reply HELP for the commands."
    if command.verb is Verb.STOP:
        opted_out(sender.recruiter, at=sender.at)
        return None  # Twilio answers STOP itself and delivers nothing more
    if command.verb is Verb.DONE and command.obligation_id is None:
        return await _done_with_the_only_one(session, sender)
    if command.verb is Verb.UNKNOWN or command.obligation_id is None:
        return f"{command.problem or 'Sorry, that is not a command.'} Reply HELP for the commands."
    obligation = await _theirs(session, sender.recruiter, command.obligation_id)
    if obligation is None:
        named = _named(command.obligation_id)
        return f"{named} is not one of your callbacks. Reply LIST to see yours."
    if command.verb is Verb.DONE:
        return await _close(session, obligation, sender)
    if command.verb is Verb.SNOOZE:
        until = sender.at + (command.snooze or DEFAULT_SNOOZE)
        return await _snooze(session, obligation, sender, until=until)
    return await _call(session, obligation, sender, settings)


async def _theirs(
    session: AsyncSession, recruiter: Recruiter, obligation_id: int
) -> Obligation | None:
    """The sender's obligation `obligation_id`, locked; None if there is no such one of theirs."""
    if not 0 < obligation_id <= LARGEST_ID:
        return None
    statement = (
        select(Obligation)
        .where(Obligation.id == obligation_id, Obligation.recruiter_id == recruiter.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).one_or_none()


async def _close(session: AsyncSession, obligation: Obligation, sender: Sender) -> str:
    reason = CloseReason.RECRUITER
    detail = {"message_sid": sender.message_sid}
    if not await close(
        session,
        obligation=obligation,
        reason=reason,
        actor=sender.actor,
        at=sender.at,
        detail=detail,
    ):
        return f"#{obligation.id} was closed already."
    if sender.courtesy is not None and sender.courtesy.close_text:
        await queue_close_text(
            session, obligation=obligation, courtesy=sender.courtesy, at=sender.at
        )
    return f"Closed #{obligation.id} ({_who(obligation)}). Thank you!"


async def _done_with_the_only_one(session: AsyncSession, sender: Sender) -> str:
    statement = _open_of(sender.recruiter).limit(_LISTED_MOST).with_for_update()
    open_ones = (await session.scalars(statement)).all()
    if len(open_ones) == 1:
        return await _close(session, open_ones[0], sender)
    if not open_ones:
        return "You have no open callbacks."
    total = await _count_open(session, sender.recruiter, listed=len(open_ones))
    return _fitted("Which one? Reply DONE and its number:", open_ones, total, sender.at)


async def _snooze(
    session: AsyncSession, obligation: Obligation, sender: Sender, *, until: datetime
) -> str:
    if obligation.status is ObligationStatus.CLOSED:
        return f"#{obligation.id} is closed; there is nothing to snooze."
    await snooze(session, obligation=obligation, until=until, actor=sender.actor, at=sender.at)
    local = until.astimezone(ZoneInfo(sender.recruiter.timezone))
    return f"Snoozed #{obligation.id} until {local:%a %d %b %H:%M}."


async def _call(
    session: AsyncSession, obligation: Obligation, sender: Sender, settings: Settings
) -> str:
    if obligation.status is ObligationStatus.CLOSED:
        return f"#{obligation.id} is closed; there is nobody to call."
    if obligation.caller is None:
        return f"#{obligation.id} came from a withheld number; there is nobody to call."
    request = await request_call(
        session, obligation=obligation, actor=sender.actor, at=sender.at, settings=settings
    )
    if request.duplicate:
        return f"Already calling you about #{obligation.id}: answer and press 1."
    return f"Calling you now: answer and press 1 to be put through to {_who(obligation)}."


async def _list(session: AsyncSession, sender: Sender) -> str:
    open_ones = (await session.scalars(_open_of(sender.recruiter).limit(_LISTED_MOST))).all()
    if not open_ones:
        return "You have no open callbacks."
    total = await _count_open(session, sender.recruiter, listed=len(open_ones))
    return _fitted(f"{total} open, oldest first:", open_ones, total, sender.at)


def _open_of(recruiter: Recruiter) -> Select[Obligation]:
    """The recruiter's open obligations, oldest first."""
    return (
        select(Obligation)
        .where(Obligation.recruiter_id == recruiter.id, Obligation.status == ObligationStatus.OPEN)
        .order_by(Obligation.opened_at, Obligation.id)
    )


async def _count_open(session: AsyncSession, recruiter: Recruiter, *, listed: int) -> int:
    """All the recruiter's open obligations; counted only when the list of them was cut."""
    if listed < _LISTED_MOST:
        return listed
    count = await session.scalar(
        select(func.count())
        .select_from(Obligation)
        .where(Obligation.recruiter_id == recruiter.id, Obligation.status == ObligationStatus.OPEN)
    )
    return int(count or 0)


def _fitted(head: str, obligations: Sequence[Obligation], total: int, now: datetime) -> str:
    """`head` and one line per obligation, as many as one SMS holds, then how many more."""

    def render(lines: list[str]) -> str:
        rest = total - len(lines)
        return "\n".join([head, *lines, *([f"+{rest} more"] if rest else [])])

    lines: list[str] = []
    for obligation in obligations:
        age = elapsed(obligation.opened_at, now) or "now"
        line = f"#{obligation.id} {_who(obligation)}, {age}"
        if obligation.missed_calls > 1:
            line += f", {obligation.missed_calls} calls"
        if not fits(render([*lines, line]), 1):
            break
        lines.append(line)
    return render(lines)


def _named(obligation_id: int) -> str:
    # An id longer than any obligation's is read as LARGEST_ID + 1: not what they wrote.
    return f"#{obligation_id}" if obligation_id <= LARGEST_ID else "That number"


def _who(obligation: Obligation) -> str:
    return for_people(obligation.caller) if obligation.caller else "withheld number"
