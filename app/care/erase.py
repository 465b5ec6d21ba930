"""Erasing a caller (a data-protection request): everything that names their number."""

from datetime import datetime
from typing import Any

import phonenumbers
from sqlalchemy import String, cast, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.care.redact import (
    REDACTED,
    REDACTED_DETAIL,
    audit,
    clear_outbox,
    queue_recordings,
    redact_obligations,
    rowcount,
)
from app.models import (
    Call,
    CloseReason,
    InboundMessage,
    Obligation,
    ObligationEvent,
    ObligationStatus,
    OutboxItem,
    Voicemail,
    WebhookDelivery,
)
from app.obligations.service import close

ERASED = "erased"


def renderings(e164: str) -> list[str]:
    """The ways texts write the number: E.164, international, national, bare digits."""
    number = phonenumbers.parse(e164, None)
    formats = (
        phonenumbers.PhoneNumberFormat.INTERNATIONAL,
        phonenumbers.PhoneNumberFormat.NATIONAL,
    )
    written = [str(phonenumbers.format_number(number, f)) for f in formats]
    return list(dict.fromkeys([e164, e164.lstrip("+"), *written]))


def mentions(column: Any, texts: list[str]) -> Any:
    """Whether the column's text contains any of `texts`."""
    return or_(*(cast(column, String).contains(text, autoescape=True) for text in texts))


async def erase_caller(
    session: AsyncSession, *, number: str, actor: str, at: datetime
) -> dict[str, int]:
    """Close and redact the caller's obligations and redact every row naming the number;
    an `erased` audit line keeps the counts. Recordings wait in `recording_deletions`."""
    ids = await _their_obligations(session, number, actor=actor, at=at)
    counts = await redact_obligations(session, obligation_ids=ids, at=at)
    texts = renderings(number)
    counts["calls"] = counts.get("calls", 0) + await _calls(session, number, at=at)
    counts["sms"] = await _inbound(session, number, texts)
    counts["outbox_texts"] = counts.get("outbox_texts", 0) + await clear_outbox(
        session,
        or_(mentions(OutboxItem.body, texts), OutboxItem.call_target == number),
        at=at,
    )
    counts["timeline_lines"] = counts.get("timeline_lines", 0) + await rowcount(
        session,
        update(ObligationEvent)
        .where(mentions(ObligationEvent.detail, texts))
        .values(detail=REDACTED_DETAIL),
    )
    counts["webhook_deliveries"] = await rowcount(
        session, delete(WebhookDelivery).where(mentions(WebhookDelivery.body, texts))
    )
    await audit(session, action=ERASED, actor=actor, at=at, counts=counts)
    return counts


async def _their_obligations(
    session: AsyncSession, number: str, *, actor: str, at: datetime
) -> list[int]:
    """The caller's obligations, locked; open ones are closed first (no more nudges)."""
    obligations = (
        await session.scalars(
            select(Obligation)
            .where(Obligation.caller == number)
            .order_by(Obligation.id)
            .with_for_update()
        )
    ).all()
    for obligation in obligations:
        if obligation.status is ObligationStatus.OPEN:
            await close(
                session,
                obligation=obligation,
                reason=CloseReason.OPS,
                actor=actor,
                at=at,
                detail={ERASED: True},
            )
    await session.flush()
    return [obligation.id for obligation in obligations]


async def _calls(session: AsyncSession, number: str, *, at: datetime) -> int:
    """Call-log rows from or to the number, and the voicemails left on them."""
    naming = or_(Call.from_number == number, Call.to_number == number)
    sids = select(Call.call_sid).where(naming)
    await queue_recordings(session, Voicemail.call_sid.in_(sids), at=at)
    await session.execute(
        update(Voicemail)
        .where(Voicemail.call_sid.in_(sids))
        .values(recording_url=None, transcript=None)
        .execution_options(synchronize_session=False)
    )
    count = await rowcount(
        session, update(Call).where(naming).values(caller_name=None, updated_at=at)
    )
    await rowcount(
        session, update(Call).where(Call.from_number == number).values(from_number=REDACTED)
    )
    await rowcount(session, update(Call).where(Call.to_number == number).values(to_number=REDACTED))
    return count


async def _inbound(session: AsyncSession, number: str, texts: list[str]) -> int:
    """Texts from the number, and commands or replies that quote it."""
    sent = await rowcount(
        session,
        update(InboundMessage)
        .where(InboundMessage.from_number == number)
        .values(from_number=REDACTED, body=REDACTED),
    )
    quoted = await rowcount(
        session,
        update(InboundMessage)
        .where(or_(mentions(InboundMessage.body, texts), mentions(InboundMessage.reply, texts)))
        .values(body=REDACTED, reply=None),
    )
    return sent + quoted
