"""RETENTION_DAYS: closed obligations older than that are redacted, in small batches."""

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.care.redact import audit, redact_obligations
from app.models import Obligation, ObligationStatus

# Small, so each batch's transaction locks the hot tables only briefly.
BATCH = 50
RETAINED = "retention"
WORKER = "worker"


async def redact_expired(session: AsyncSession, *, now: datetime, days: int) -> int:
    """Redact one batch of closed obligations closed more than `days` ago; how many."""
    ids = list(
        await session.scalars(
            select(Obligation.id)
            .where(
                Obligation.status == ObligationStatus.CLOSED,
                Obligation.closed_at < now - timedelta(days=days),
                Obligation.redacted_at.is_(None),
            )
            .order_by(Obligation.closed_at, Obligation.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        )
    )
    if not ids:
        return 0
    counts = await redact_obligations(session, obligation_ids=ids, at=now)
    await audit(session, action=RETAINED, actor=WORKER, at=now, counts=counts)
    return len(ids)
