"""Liveness, readiness and metrics: outside /api/v1, no token, no personal data."""

import logging
from datetime import datetime

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import migrate
from app.courtesy.overdue import count_overdue
from app.db import begin_read_only
from app.errors import Unavailable, log_database_error
from app.http.deps import RuntimeDep
from app.http.openapi import responses
from app.metrics import OBLIGATIONS_OVERDUE, OUTBOX_BACKLOG, WORKER_LAG
from app.models import Obligation, OutboxItem, OutboxStatus, Recruiter
from app.reminders.queue import due

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: the database answers and has this version's schema",
    responses=responses(503),
)
async def readyz(runtime: RuntimeDep) -> dict[str, str]:
    try:
        async with runtime.engine.connect() as connection:
            # A deferred transaction: a probe never queues for SQLite's write lock.
            await connection.execution_options(sqlite_begin="DEFERRED")
            await connection.execute(text("SELECT 1"))
            if not runtime.schema_ready:
                runtime.schema_ready = await connection.run_sync(migrate.at_head)
    except Exception as exc:  # whatever fails, the service cannot serve now
        log_database_error("readyz", exc)
        raise Unavailable("the database cannot be reached") from exc
    if not runtime.schema_ready:
        log.warning("readyz: the database schema is behind; run `callpledge db upgrade`")
        raise Unavailable("the database schema is not this version's; run `callpledge db upgrade`")
    return {"status": "ready"}


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
)
async def metrics(runtime: RuntimeDep) -> Response:
    try:
        await observe(runtime.sessions, runtime.clock.now())
    except (SQLAlchemyError, OSError) as exc:
        # The counters still tell a story while the database is away; the gauges keep
        # their last values rather than failing the whole scrape.
        log.warning("metrics: work gauges not refreshed: %s", type(exc).__name__)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


async def observe(sessions: async_sessionmaker[AsyncSession], now: datetime) -> None:
    """Set the outbox backlog and worker lag gauges, in a read-only transaction of their own."""
    async with sessions() as session:
        await begin_read_only(session)
        await refresh_work_gauges(session, now=now)


async def refresh_work_gauges(session: AsyncSession, *, now: datetime) -> None:
    """Set the outbox backlog, the worker lag (age of the oldest due work, 0 if none) and the
    count of overdue obligations."""
    backlog = 0
    for status in (OutboxStatus.PENDING, OutboxStatus.SENDING):
        # One count per status reads its partial index, never the whole outbox.
        counted = select(func.count()).select_from(OutboxItem).where(OutboxItem.status == status)
        backlog += await session.scalar(counted) or 0
    oldest_nudge = await session.scalar(
        select(func.min(Obligation.next_reminder_at))
        .join(Recruiter, Recruiter.id == Obligation.recruiter_id)
        .where(*due(now), Recruiter.active)
    )
    oldest_item = await session.scalar(
        select(func.min(OutboxItem.next_attempt_at)).where(
            OutboxItem.status == OutboxStatus.PENDING, OutboxItem.next_attempt_at <= now
        )
    )
    OUTBOX_BACKLOG.set(backlog)
    OBLIGATIONS_OVERDUE.set(await count_overdue(session, now=now))
    oldest = min((t for t in (oldest_nudge, oldest_item) if t is not None), default=now)
    WORKER_LAG.set(max(0.0, (now - oldest).total_seconds()))
