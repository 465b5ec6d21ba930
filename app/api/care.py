"""/api/v1/obligations/export.csv and /api/v1/callers/{number}: export and erasure."""

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from app.api.auth import ActorDep
from app.api.filters import ObligationWhere, e164_or_invalid
from app.care.erase import erase_caller
from app.care.export import csv_chunks
from app.http.deps import ClockDep, RuntimeDep, SessionDep, SettingsDep
from app.http.openapi import responses

router = APIRouter(tags=["data care"])
_CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}}
}


class Erased(BaseModel):
    counts: dict[str, int] = Field(description="rows redacted or removed, by kind")
    recordings_queued: int = Field(description="recordings the worker deletes at Twilio")


@router.get(
    "/obligations/export.csv",
    summary="Obligations as CSV (the listing's filters), streamed",
    response_class=StreamingResponse,
    responses=responses(422) | _CSV,
)
async def export_csv(runtime: RuntimeDep, where: ObligationWhere) -> StreamingResponse:
    return StreamingResponse(
        csv_chunks(runtime.sessions, where=where),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="obligations.csv"'},
    )


@router.delete(
    "/callers/{number}",
    summary="Erase a caller: every obligation, voicemail, call and text naming the number",
    responses=responses(422),
)
async def erase(
    number: Annotated[str, Path(max_length=64, examples=["+447700900123"])],
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    actor: ActorDep,
) -> Erased:
    e164 = e164_or_invalid(number, settings.default_region, field="number", location="path")
    counts = await erase_caller(session, number=e164, actor=actor, at=clock.now())
    return Erased(counts=counts, recordings_queued=counts.get("recordings", 0))
