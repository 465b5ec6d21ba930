"""Liveness, readiness and metrics: outside /api/v1, no token, no personal data."""

import logging
from datetime import datetime

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import begin_read_only
from app.deps import RuntimeDep
from app.errors import Unavailable
from app.metrics import OUTBOX_BACKLOG, WORKER_LAG
from app.models import Obligation, OutboxItem, OutboxStatus
from app.openapi import responses

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: the database answers", responses=responses(503))
async def readyz(runtime: RuntimeDep) -> dict[str, str]:
    try:
        async with runtime.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:
        raise Unavailable("the database cannot be reached") from exc
    return {"status": "ready"}


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
)
async def metrics(runtime: RuntimeDep) -> Response:
    try:
        async with runtime.sessions() as session:
            await begin_read_only(session)
            await refresh_work_gauges(session, now=runtime.clock.now())
    except (SQLAlchemyError, OSError) as exc:
        # The counters still tell a story while the database is away; the gauges keep
        # their last values rather than failing the whole scrape.
        log.warning("metrics: work gauges not refreshed: %s", type(exc).__name__)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


async def refresh_work_gauges(session: AsyncSession, *, now: datetime) -> None:
    """Set the outbox backlog and the worker lag (age of the oldest due work, 0 if none)."""
    waiting = (OutboxStatus.PENDING, OutboxStatus.SENDING)
    backlog = await session.scalar(
        select(func.count()).select_from(OutboxItem).where(OutboxItem.status.in_(waiting))
    )
    oldest_nudge = await session.scalar(
        select(func.min(Obligation.next_reminder_at)).where(
            Obligation.next_reminder_at.is_not(None), Obligation.next_reminder_at <= now
        )
    )
    oldest_item = await session.scalar(
        select(func.min(OutboxItem.next_attempt_at)).where(
            OutboxItem.status == OutboxStatus.PENDING, OutboxItem.next_attempt_at <= now
        )
    )
    due = [moment for moment in (oldest_nudge, oldest_item) if moment is not None]
    OUTBOX_BACKLOG.set(backlog or 0)
    WORKER_LAG.set(max(0.0, (now - min(due)).total_seconds()) if due else 0.0)
