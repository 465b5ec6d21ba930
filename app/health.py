"""Liveness, readiness and metrics: outside /api/v1, no token, no personal data."""

from fastapi import APIRouter, Response
from sqlalchemy import text

from app.deps import RuntimeDep
from app.errors import Unavailable

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: the database answers")
async def readyz(runtime: RuntimeDep) -> dict[str, str]:
    try:
        async with runtime.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:
        raise Unavailable("the database cannot be reached") from exc
    return {"status": "ready"}


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics() -> Response:
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
