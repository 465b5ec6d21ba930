"""Removing what names a caller from obligations and everything attached to them.

Rows stay (counts, stats and the call log's shape survive); the personal parts go:
numbers become `redacted`, names, transcripts, recording URLs and SMS texts are cleared,
timeline details are replaced, and webhook events with their frozen bodies are deleted.
Recordings are queued for deletion at Twilio, which happens outside any transaction.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import dialect_insert
from app.models import (
    AuditEntry,
    Call,
    Obligation,
    ObligationEvent,
    OutboxItem,
    OutboxObligation,
    OutboxStatus,
    RecordingDeletion,
    Voicemail,
    WebhookEvent,
)

REDACTED = "redacted"
REDACTED_DETAIL = {"redacted": True}


async def redact_obligations(
    session: AsyncSession, *, obligation_ids: Sequence[int], at: datetime
) -> dict[str, int]:
    """Redact these obligations and what hangs off them; how many rows of each kind."""
    if not obligation_ids:
        return {}
    ids = list(obligation_ids)
    callers = await _callers(session, ids)
    outbox = select(OutboxObligation.outbox_id).where(OutboxObligation.obligation_id.in_(ids))
    counts = {
        "recordings": await queue_recordings(session, Voicemail.obligation_id.in_(ids), at=at),
        "voicemails": await _clear_voicemails(session, Voicemail.obligation_id.in_(ids)),
        "timeline_lines": await rowcount(
            session,
            update(ObligationEvent)
            .where(ObligationEvent.obligation_id.in_(ids))
            .values(detail=REDACTED_DETAIL),
        ),
        "webhook_events": await rowcount(
            session, delete(WebhookEvent).where(WebhookEvent.obligation_id.in_(ids))
        ),
        "outbox_texts": await clear_outbox(session, OutboxItem.id.in_(outbox), at=at),
        "calls": await _redact_linked_calls(session, ids, callers, at=at),
    }
    counts["obligations"] = await rowcount(
        session,
        update(Obligation)
        .where(Obligation.id.in_(ids))
        .values(caller=None, caller_name=None, redacted_at=at, updated_at=at),
    )
    return counts


async def _callers(session: AsyncSession, ids: list[int]) -> list[str]:
    rows = await session.scalars(
        select(Obligation.caller).where(Obligation.id.in_(ids), Obligation.caller.is_not(None))
    )
    return [caller for caller in set(rows) if caller is not None]


async def queue_recordings(session: AsyncSession, where: Any, *, at: datetime) -> int:
    """Queue the recordings of the voicemails `where` names for deletion at Twilio."""
    sids = list(await session.scalars(select(Voicemail.recording_sid).where(where)))
    if not sids:
        return 0
    rows = [{"recording_sid": sid, "requested_at": at, "attempts": 0} for sid in sids]
    insert = dialect_insert(session)(RecordingDeletion).on_conflict_do_nothing()
    await session.execute(insert, rows)
    return len(sids)


async def _clear_voicemails(session: AsyncSession, where: Any) -> int:
    statement = update(Voicemail).where(where).values(recording_url=None, transcript=None)
    return await rowcount(session, statement)


async def clear_outbox(session: AsyncSession, where: Any, *, at: datetime) -> int:
    """Clear the texts and call targets of outbox items; those not yet sent never will be."""
    await session.execute(
        update(OutboxItem)
        .where(where, OutboxItem.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.CANCELLED, updated_at=at)
    )
    statement = update(OutboxItem).where(where).values(body=None, call_target=None, updated_at=at)
    return await rowcount(session, statement)


async def _redact_linked_calls(
    session: AsyncSession, ids: list[int], callers: list[str], *, at: datetime
) -> int:
    linked = Call.obligation_id.in_(ids)
    count = await rowcount(
        session, update(Call).where(linked).values(caller_name=None, updated_at=at)
    )
    if callers:  # the caller's side of each call; the recruiter's line stays
        await session.execute(
            update(Call).where(linked, Call.from_number.in_(callers)).values(from_number=REDACTED)
        )
        await session.execute(
            update(Call).where(linked, Call.to_number.in_(callers)).values(to_number=REDACTED)
        )
    return count


async def audit(
    session: AsyncSession, *, action: str, actor: str, at: datetime, counts: dict[str, int]
) -> None:
    """One audit line: what was done, by whom, when, and how many rows; never the data."""
    session.add(AuditEntry(at=at, action=action, actor=actor, detail=counts))
    await session.flush()


async def rowcount(session: AsyncSession, statement: Any) -> int:
    result = await session.execute(statement.execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


def total(counts: dict[str, int]) -> int:
    """All rows touched."""
    return sum(counts.values())
