"""How a courtesy SMS to an obligation's caller is queued: from the recruiter's line, once."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Obligation, OutboxKind, Recruiter
from app.outbox.service import enqueue


async def text_caller(
    session: AsyncSession,
    *,
    purpose: str,
    obligation: Obligation,
    recruiter: Recruiter,
    body: str,
    at: datetime,
    not_before: datetime,
) -> int | None:
    """Queue `body` to the caller (one per purpose and obligation); the outbox id."""
    assert obligation.caller is not None
    return await enqueue(
        session,
        key=f"{purpose}:{obligation.id}",
        kind=OutboxKind.SMS,
        purpose=purpose,
        to_number=obligation.caller,
        sender=recruiter,
        body=body,
        obligation_ids=[obligation.id],
        at=at,
        not_before=not_before,
    )
