"""The ops board, one obligation's page, its actions, and the voicemail proxy."""

from collections.abc import Awaitable
from datetime import datetime, timedelta
from typing import Annotated
from urllib.parse import urlencode

import httpx
from fastapi import APIRouter, Depends, Form, Path, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from app.config import Settings
from app.db import begin_read_only
from app.errors import AppError, NotFound, Unavailable
from app.http.deps import ClockDep, RuntimeDep, SessionDep, SettingsDep
from app.models import ObligationStatus, Recruiter
from app.obligations import queries as ops
from app.obligations.service import locked
from app.voice.click_to_call import request_call
from app.web import board
from app.web.auth import ActingDep, OperatorDep, local_path
from app.web.render import page

router = APIRouter(prefix="/dashboard")
ObligationId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Back = Annotated[str, Form(max_length=400)]
# What a redirect after an action may say; only these fixed texts, chosen by key.
NOTICES = {
    "closed": "Closed.",
    "snoozed": "Snoozed.",
    "call": "Click-to-call requested: the recruiter's phone rings first, then the caller's.",
}
_RECORDING_TIMEOUT = httpx.Timeout(15.0, connect=5.0)


def _filter(status: str | None = None, recruiter: str | None = None) -> board.BoardFilter:
    """The board's filters from the query; anything unreadable is the default."""
    chosen = ObligationStatus.CLOSED if status == "closed" else ObligationStatus.OPEN
    recruiter_id = int(recruiter) if recruiter and recruiter.isdigit() else None
    return board.BoardFilter(chosen, recruiter_id)


BoardWhere = Annotated[board.BoardFilter, Depends(_filter)]
Cursor = Annotated[str | None, Query(max_length=400)]


async def _board_context(
    request: Request, session: SessionDep, where: BoardWhere, cursor: Cursor = None
) -> dict[str, object]:
    """What the board page and its polled table show: one page of the filtered board."""
    recruiters = await board.recruiters_by_id(session)
    now = request.app.state.runtime.clock.now()
    found = await board.board_page(
        session, where=where, recruiters=recruiters, now=now, cursor=cursor
    )
    query = {"status": where.status.value}
    if where.recruiter_id is not None:
        query["recruiter"] = str(where.recruiter_id)
    return {
        "rows": found.items,
        "next_cursor": found.next_cursor,
        "recruiters": recruiters.values(),
        "where": where,
        "query": urlencode(query),
        "cursor": cursor,
        "here": f"/dashboard?{urlencode(query | ({'cursor': cursor} if cursor else {}))}",
        "now": now,
    }


BoardContext = Annotated[dict[str, object], Depends(_board_context)]


@router.get("", include_in_schema=False)
async def board_view(
    request: Request, operator: OperatorDep, shown: BoardContext, notice: str | None = None
) -> Response:
    context = shown | {"operator": operator, "notice": NOTICES.get(notice or "")}
    return page(request, "board.html", context)


@router.get("/board", include_in_schema=False)
async def board_fragment(request: Request, operator: OperatorDep, shown: BoardContext) -> Response:
    """The board's table alone, which the page polls for."""
    return page(request, "_board.html", shown | {"operator": operator})


@router.get("/obligations/{obligation_id}", include_in_schema=False)
async def obligation_view(
    request: Request, obligation_id: ObligationId, session: SessionDep, operator: OperatorDep
) -> Response:
    view = await ops.obligation_detail(session, obligation_id)
    recruiters = await board.recruiters_by_id(session)
    calls = await board.call_log(session, obligation_id)
    context = {
        "view": view,
        "o": view.obligation,
        "recruiter": recruiters[view.obligation.recruiter_id],
        "calls": calls.items,
        "operator": operator,
        "now": request.app.state.runtime.clock.now(),
        "here": f"/dashboard/obligations/{obligation_id}",
    }
    return page(request, "obligation.html", context)


@router.post("/obligations/{obligation_id}/close", include_in_schema=False)
async def close(
    request: Request,
    obligation_id: ObligationId,
    session: SessionDep,
    clock: ClockDep,
    operator: ActingDep,
    back: Back = "/dashboard",
) -> Response:
    closing = ops.close_by_ops(
        session, obligation_id=obligation_id, actor=operator.actor, at=clock.now(), note=None
    )
    return await _acted(request, session, back, "closed", closing)


@router.post("/obligations/{obligation_id}/snooze", include_in_schema=False)
async def snooze(
    request: Request,
    obligation_id: ObligationId,
    session: SessionDep,
    clock: ClockDep,
    operator: ActingDep,
    until: Annotated[str, Form(max_length=20)],
    back: Back = "/dashboard",
) -> Response:
    snoozing = _snooze(
        session, obligation_id=obligation_id, actor=operator.actor, at=clock.now(), until=until
    )
    return await _acted(request, session, back, "snoozed", snoozing)


async def _snooze(
    session: AsyncSession, *, obligation_id: int, actor: str, at: datetime, until: str
) -> None:
    """Snooze until tomorrow morning in the recruiter's time zone, or for one of SNOOZES."""
    obligation = await locked(session, obligation_id)
    if until == "tomorrow":
        recruiter = await session.get_one(Recruiter, obligation.recruiter_id)
        end: datetime | timedelta = board.tomorrow_morning(at, recruiter.timezone)
    else:
        end = board.SNOOZES.get(until, timedelta(0))
    await ops.snooze_by_ops(session, obligation_id=obligation_id, actor=actor, at=at, until=end)


@router.post("/obligations/{obligation_id}/call", include_in_schema=False)
async def call(
    request: Request,
    obligation_id: ObligationId,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    operator: ActingDep,
    back: Back = "/dashboard",
) -> Response:
    calling = _call(
        session,
        obligation_id=obligation_id,
        actor=operator.actor,
        at=clock.now(),
        settings=settings,
    )
    return await _acted(request, session, back, "call", calling)


async def _call(
    session: AsyncSession, *, obligation_id: int, actor: str, at: datetime, settings: Settings
) -> None:
    """Ask for a click-to-call on the obligation, locked first."""
    obligation = await locked(session, obligation_id)
    await request_call(session, obligation=obligation, actor=actor, at=at, settings=settings)


@router.get("/recordings/{voicemail_id}", include_in_schema=False)
async def recording(
    voicemail_id: ObligationId, runtime: RuntimeDep, _operator: OperatorDep
) -> Response:
    """The voicemail's audio, fetched from Twilio with the account's credentials."""
    async with runtime.sessions() as session:  # closed before Twilio is asked
        await begin_read_only(session)
        found = await board.voicemail(session, voicemail_id)
        sid = None if found is None else found.recording_sid
    settings = runtime.settings
    if sid is None or settings.twilio_account_sid is None or settings.twilio_auth_token is None:
        raise NotFound(f"voicemail {voicemail_id} has no recording to play here")
    url = (
        f"{settings.twilio_api_url}/2010-04-01/Accounts/{settings.twilio_account_sid}"
        f"/Recordings/{sid}.mp3"
    )
    auth = (settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value())
    try:
        async with httpx.AsyncClient(timeout=_RECORDING_TIMEOUT) as http:
            answer = await http.get(url, auth=auth)
    except httpx.HTTPError:
        raise Unavailable("Twilio could not be reached for the recording; try again") from None
    if answer.status_code != 200:
        raise NotFound(f"Twilio has no recording {sid} (it answered {answer.status_code})")
    headers = {"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"}
    return Response(answer.content, media_type="audio/mpeg", headers=headers)


async def _acted(
    request: Request, session: AsyncSession, back: str, notice: str, action: Awaitable[object]
) -> Response:
    """Back to `back` saying `notice` once `action` is done; the notice page if it is refused."""
    try:
        await action
    except AppError as problem:
        return await _refused(request, session, problem, back)
    return _done(back, notice)


def _done(back: str, notice: str) -> Response:
    target = local_path(back)
    joiner = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{joiner}notice={notice}", status_code=303)


async def _refused(
    request: Request, session: AsyncSession, problem: AppError, back: str
) -> Response:
    """The action was refused (closed already, not found, bad input): say why, change nothing."""
    await session.rollback()
    context = {"message": problem.detail, "back": local_path(back)}
    return page(request, "notice.html", context, status_code=problem.status_code)
