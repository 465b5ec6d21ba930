"""What one attempt at Twilio gave, and how it is recorded on the outbox row and counted."""

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.courtesy.outcomes import mark_sent
from app.metrics import NUDGES, OUTBOX_SENDS
from app.models import OutboxItem, OutboxKind, OutboxStatus
from app.obligations.timeline import WORKER
from app.outbox.claims import Claimed
from app.outbox.service import unadopt
from app.reminders.queue import REMINDER_PURPOSES
from app.sms.delivery import clear_flags, flag_failure
from app.twilio.outbound import SendError
from app.voice.click_to_call import call_failed
from app.webhooks.events import nudge_accepted

log = logging.getLogger(__name__)
# A found message that another outbox row holds: this item's own is still to be sent.
NOT_OURS = SendError("the message found at Twilio is another outbox item's")


def backoff(
    attempts: int, cap: timedelta, jitter: Callable[[], float] = random.random
) -> timedelta:
    """About 1 s after the first failure, doubling after each, ±20 % jitter; at most `cap`."""
    seconds = 2.0 ** min(attempts - 1, 32) * (0.8 + 0.4 * jitter())
    return min(cap, timedelta(seconds=seconds))


@dataclass(frozen=True)
class Outcome:
    """What one attempt at Twilio gave: a SID (new, or found from an earlier attempt) or an
    error."""

    claimed: Claimed
    sid: str | None = None
    recovered: bool = False
    error: SendError | None = None
    cancelled: bool = False  # a moot reminder no earlier attempt had sent


async def record_sent(
    session: AsyncSession,
    *,
    item: OutboxItem,
    outcome: Outcome,
    holders: dict[str, int],
    now: datetime,
) -> Outcome:
    """A sent (or found) item: its SID, unless another row holds it; then its flags."""
    claimed = outcome.claimed
    if outcome.sid is not None and item.twilio_sid is None:
        if holders.setdefault(outcome.sid, item.id) != item.id:
            if outcome.recovered:  # a guess, and the message is another row's
                return Outcome(claimed, error=NOT_OURS)
            # Twilio answered this very request: the row holding the SID guessed wrong.
            await unadopt(session, sid=outcome.sid, owner_id=item.id, at=now)
            holders[outcome.sid] = item.id
        item.twilio_sid = outcome.sid
    if item.sent_at is None and claimed.purpose in REMINDER_PURPOSES:
        await nudge_accepted(session, outbox_id=item.id, purpose=claimed.purpose, at=now)
    item.sent_at = item.sent_at or now
    item.updated_at = now
    if item.status is OutboxStatus.SENDING:  # a delivery report may have come first
        item.status = OutboxStatus.SENT
        item.error_code, item.error_message = None, None
        await mark_sent(session, item=item, at=now)
    if (
        claimed.recruiter_flagged
        and claimed.recruiter_id is not None
        and claimed.item.kind is OutboxKind.SMS
        and item.status in (OutboxStatus.SENT, OutboxStatus.DELIVERED)
    ):
        await clear_flags(
            session,
            outbox_id=item.id,
            recruiter_id=claimed.recruiter_id,
            to_number=item.to_number,
            at=now,
        )
    return outcome


async def record_failure(
    session: AsyncSession, *, item: OutboxItem, error: SendError, now: datetime, cap: timedelta
) -> None:
    """A failed attempt: retried after a backoff (at most `cap`), or failed for good."""
    if item.status is not OutboxStatus.SENDING:
        return
    item.error_code, item.error_message = error.code, str(error)[:500]
    item.updated_at = now
    if not error.permanent:
        item.status = OutboxStatus.PENDING
        item.next_attempt_at = now + backoff(item.attempts, cap)
        return
    item.status = OutboxStatus.FAILED
    if item.kind is OutboxKind.SMS:
        await flag_failure(session, item=item, code=error.code, at=now, actor=WORKER)
    else:
        await call_failed(session, outbox_id=item.id, code=error.code, at=now)


def record_cancelled(item: OutboxItem, now: datetime) -> None:
    if item.status is OutboxStatus.SENDING:  # else a delivery report says it went after all
        item.status, item.updated_at = OutboxStatus.CANCELLED, now


def outcome_of(claimed: Claimed, sent: str | None | SendError) -> Outcome:
    if isinstance(sent, SendError):
        return Outcome(claimed, error=sent)
    return Outcome(claimed, sent)


def count(outcome: Outcome) -> None:
    kind, reminder = outcome.claimed.item.kind.value, outcome.claimed.purpose in REMINDER_PURPOSES
    if outcome.cancelled:
        NUDGES.labels(outcome="cancelled").inc()
        return
    if outcome.error is None:
        OUTBOX_SENDS.labels(kind=kind, outcome="recovered" if outcome.recovered else "sent").inc()
        if reminder:
            NUDGES.labels(outcome="sent").inc()
        return
    permanent = outcome.error.permanent
    OUTBOX_SENDS.labels(kind=kind, outcome="failed" if permanent else "retry").inc()
    if permanent and reminder:
        NUDGES.labels(outcome="failed").inc()
    # The code, not Twilio's message: that can quote the phone number.
    log.warning(
        "outbox item %s: error %s (%s)",
        outcome.claimed.item.id,
        outcome.error.code,
        "failed" if permanent else "retry",
    )
