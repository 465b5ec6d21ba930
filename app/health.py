"""Liveness, readiness and metrics: outside /api/v1, no token, no personal data."""

import logging

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.deps import RuntimeDep
from app.errors import Unavailable
from app.openapi import responses
from app.worker import observe

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
        await observe(runtime.sessions, runtime.clock.now())
    except (SQLAlchemyError, OSError) as exc:
        # The counters still tell a story while the database is away; the gauges keep
        # their last values rather than failing the whole scrape.
        log.warning("metrics: work gauges not refreshed: %s", type(exc).__name__)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
