"""Click-to-call: queue a call that rings the recruiter, then bridges them to the caller.

The worker places the call (to the recruiter's mobile, from their line, with the outbox id
in its URL); `/twilio/voice/connect` screens the recruiter's answer like the forward flow
and only a key press dials the caller, with the line as caller ID. How that leg ends
closes the obligation or records an attempt, as any callback does (`app.voice.callbacks`).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.errors import Conflict
from app.models import (
    Obligation,
    ObligationEvent,
    ObligationStatus,
    OutboxItem,
    OutboxKind,
    OutboxObligation,
    Recruiter,
)
from app.obligations.timeline import WORKER, EventKind, add_events, note
from app.outbox.service import enqueue
from app.phones import for_people
from app.sms.delivery import linked_obligations

PURPOSE = "click_to_call"


@dataclass(frozen=True)
class CallRequest:
    """The click-to-call a request led to: a new one, or the one just asked for."""

    requested_at: datetime
    duplicate: bool


@dataclass(frozen=True)
class Target:
    """Whom a click-to-call dials once the recruiter accepts, and from which line."""

    obligation_id: int
    caller: str
    caller_name: str | None
    line: str

    def prompt(self) -> str:
        """What the recruiter hears when they pick up."""
        return f"Callpledge. Press 1 to call back {self._who()} now."

    def announcement(self) -> str:
        return f"Calling {self._who()}."

    def _who(self) -> str:
        number = spoken(self.caller)
        return f"{self.caller_name}, on {number}" if self.caller_name else number


def spoken(number: str) -> str:
    """A number as a voice should read it: `plus 4 4, 7 7 0 0, ...`, not "seven thousand"."""
    groups = for_people(number).replace("-", " ").split()
    return ", ".join(" ".join("plus" if c == "+" else c for c in group) for group in groups)


async def target_of(session: AsyncSession, *, outbox_id: int) -> Target | None:
    """What click-to-call item `outbox_id` dials; None once its obligation has closed."""
    row = (
        await session.execute(
            select(Obligation.id, Obligation.caller, Obligation.caller_name, Recruiter.line)
            .join(OutboxObligation, OutboxObligation.obligation_id == Obligation.id)
            .join(OutboxItem, OutboxItem.id == OutboxObligation.outbox_id)
            .join(Recruiter, Recruiter.id == Obligation.recruiter_id)
            .where(
                OutboxItem.id == outbox_id,
                OutboxItem.kind == OutboxKind.CALL,
                OutboxItem.purpose == PURPOSE,
                Obligation.status == ObligationStatus.OPEN,
                Obligation.caller.is_not(None),
            )
        )
    ).first()
    return Target(row.id, row.caller, row.caller_name, row.line) if row else None


async def request_call(
    session: AsyncSession,
    *,
    obligation: Obligation,
    actor: str,
    at: datetime,
    settings: Settings,
) -> CallRequest:
    """Queue a click-to-call for a locked, open obligation.

    A second request while the recruiter's phone may still be ringing from the first (one
    CALL_TIMEOUT_SECONDS) is the same request, e.g. a double click; later ones place a new
    call. The obligation's row lock makes concurrent requests take turns.
    """
    if obligation.status is ObligationStatus.CLOSED:
        raise Conflict(f"obligation {obligation.id} is closed")
    if obligation.caller is None:
        raise Conflict(f"obligation {obligation.id} has no number to call: the caller was withheld")
    recruiter = await session.get(Recruiter, obligation.recruiter_id)
    if recruiter is None or not recruiter.active:
        raise Conflict(f"recruiter {obligation.recruiter_id} was deactivated")
    last = await _last_request(session, obligation.id)
    if last is not None and at - last < timedelta(seconds=settings.call_timeout_seconds):
        return CallRequest(last, duplicate=True)
    outbox_id = await enqueue(
        session,
        key=f"call:{obligation.id}:{at.isoformat()}",
        kind=OutboxKind.CALL,
        purpose=PURPOSE,
        sender=recruiter,
        call_target=obligation.caller,
        obligation_ids=[obligation.id],
        at=at,
    )
    await note(
        session, obligation.id, EventKind.CALL_REQUESTED, actor=actor, at=at, outbox_id=outbox_id
    )
    return CallRequest(at, duplicate=False)


async def call_failed(
    session: AsyncSession, *, outbox_id: int, code: int | None, at: datetime
) -> None:
    """Twilio refused a click-to-call for good: the obligation's timeline says so."""
    await add_events(
        session,
        obligation_ids=await linked_obligations(session, outbox_id),
        at=at,
        kind=EventKind.CALL_FAILED,
        actor=WORKER,
        detail={"outbox_id": outbox_id, "code": code},
    )


async def _last_request(session: AsyncSession, obligation_id: int) -> datetime | None:
    last: datetime | None = await session.scalar(
        select(func.max(ObligationEvent.at)).where(
            ObligationEvent.obligation_id == obligation_id,
            ObligationEvent.kind == EventKind.CALL_REQUESTED.value,
        )
    )
    return last
