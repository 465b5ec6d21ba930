"""/api/v1/obligations: the open and closed obligations, their timelines, and actions."""

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query

from app.api.auth import ActorDep
from app.api.filters import ObligationWhere
from app.api.schemas import (
    CallRequested,
    CloseRequest,
    ObligationDetail,
    ObligationPage,
    SnoozeFor,
    SnoozeUntil,
    obligation_detail_out,
    obligation_out,
)
from app.courtesy.policy import Courtesy
from app.durations import parse_duration
from app.errors import InvalidInput
from app.http.deps import ClockDep, NowDep, SessionDep, SettingsDep
from app.http.openapi import responses
from app.obligations import queries as ops
from app.obligations.service import locked
from app.voice.click_to_call import request_call

router = APIRouter(prefix="/obligations", tags=["obligations"])
# The routes on one obligation: an id that names none is a 404, one out of range a 422.
by_id = APIRouter(prefix="/{obligation_id}", responses=responses(404, 422))
ObligationId = Annotated[int, Path(ge=1, le=2**63 - 1, examples=[1])]
Limit = Annotated[int, Query(ge=1, le=200, description="items per page (at most 200)")]
Cursor = Annotated[
    str | None,
    Query(max_length=400, pattern=r"^[A-Za-z0-9_\-]+$", description="`next_cursor` of a page"),
]


@router.get("", summary="List obligations, newest opened first", responses=responses(422))
async def list_obligations(
    session: SessionDep,
    where: ObligationWhere,
    now: NowDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> ObligationPage:
    page = await ops.list_obligations(session, where=where, cursor=cursor, limit=limit)
    items = [obligation_out(v, now=now) for v in page.items]
    return ObligationPage(items=items, next_cursor=page.next_cursor)


@by_id.get("", summary="One obligation with its timeline")
async def get_one(
    obligation_id: ObligationId, session: SessionDep, now: NowDep
) -> ObligationDetail:
    view = await ops.obligation_detail(session, obligation_id)
    return obligation_detail_out(view, now=now)


@by_id.post("/close", summary="Close with reason `ops` (a closed one is answered unchanged)")
async def close(
    obligation_id: ObligationId,
    session: SessionDep,
    now: NowDep,
    actor: ActorDep,
    settings: SettingsDep,
    body: CloseRequest | None = None,
) -> ObligationDetail:
    notify = body.notify_caller if body and body.notify_caller is not None else None
    if notify is None:
        notify = settings.caller_close_text
    view = await ops.close_by_ops(
        session,
        obligation_id=obligation_id,
        actor=actor,
        at=now,
        note=body.note if body else None,
        notify_caller=Courtesy.of(settings) if notify else None,
    )
    return obligation_detail_out(view, now=now)


@by_id.post(
    "/snooze", summary="Hold nudges until a time, or for a duration", responses=responses(409)
)
async def snooze(
    obligation_id: ObligationId,
    body: Annotated[SnoozeUntil | SnoozeFor, Body()],
    session: SessionDep,
    now: NowDep,
    actor: ActorDep,
) -> ObligationDetail:
    until = body.until if isinstance(body, SnoozeUntil) else _duration(body.duration)
    view = await ops.snooze_by_ops(
        session, obligation_id=obligation_id, actor=actor, at=now, until=until
    )
    return obligation_detail_out(view, now=now)


def _duration(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="duration") from None


@by_id.post(
    "/call",
    status_code=202,
    summary="Click-to-call: ring the recruiter, then connect them to the caller",
    responses=responses(409),
)
async def call(
    obligation_id: ObligationId,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    actor: ActorDep,
) -> CallRequested:
    obligation = await locked(session, obligation_id)
    request = await request_call(
        session, obligation=obligation, actor=actor, at=clock.now(), settings=settings
    )
    return CallRequested(
        obligation_id=obligation.id,
        requested_at=request.requested_at,
        duplicate=request.duplicate,
    )


# Last: include_router copies the routes declared so far.
router.include_router(by_id)
