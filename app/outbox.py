"""The outbox: outgoing Twilio work (SMS and calls), written in the caller's transaction.

The worker sends it later (claim, commit, send, record), so no transaction is ever held
open across a call to Twilio, and the idempotency key makes every enqueue safe to repeat.
"""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import dialect_insert
from app.models import OutboxItem, OutboxKind, OutboxObligation, OutboxStatus


async def enqueue(
    session: AsyncSession,
    *,
    key: str,
    kind: OutboxKind,
    purpose: str,
    to_number: str,
    at: datetime,
    from_number: str | None = None,
    body: str | None = None,
    call_target: str | None = None,
    recruiter_id: int | None = None,
    obligation_ids: Iterable[int] = (),
    not_before: datetime | None = None,
) -> int | None:
    """Queue one SMS or call; None when an item with this key was queued before."""
    insert = dialect_insert(session)
    statement = (
        insert(OutboxItem)
        .values(
            kind=kind,
            purpose=purpose,
            idempotency_key=key,
            recruiter_id=recruiter_id,
            to_number=to_number,
            from_number=from_number,
            body=body,
            call_target=call_target,
            status=OutboxStatus.PENDING,
            attempts=0,
            next_attempt_at=not_before or at,
            created_at=at,
            updated_at=at,
        )
        .on_conflict_do_nothing(index_elements=[OutboxItem.idempotency_key])
        .returning(OutboxItem.id)
    )
    outbox_id = (await session.execute(statement)).scalar_one_or_none()
    if outbox_id is not None:
        session.add_all(
            OutboxObligation(outbox_id=outbox_id, obligation_id=obligation_id)
            for obligation_id in dict.fromkeys(obligation_ids)
        )
        await session.flush()
    return outbox_id
