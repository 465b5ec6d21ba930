"""Request dependencies: the runtime, and the request's one transaction."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.clock import Clock
from app.config import Settings
from app.db import begin_read_only
from app.recruiters.fields import Numbering
from app.runtime import Runtime


# Dependencies are `async def` even when they only read: FastAPI runs plain `def` ones in
# its thread pool, a hand-off per request that costs more than the work.
async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_settings(runtime: RuntimeDep) -> Settings:
    return runtime.settings


async def get_clock(runtime: RuntimeDep) -> Clock:
    return runtime.clock


async def request_transaction(request: Request, runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """The request's one transaction, committed before the response is sent."""
    session = runtime.sessions()
    if request.method in ("GET", "HEAD"):
        await begin_read_only(session)
    try:
        yield session
        if session.in_transaction():
            await session.commit()
    except BaseException:
        if session.in_transaction():
            await session.rollback()
        raise
    finally:
        # A session the route never used holds nothing: skip the round of greenlet calls.
        if session.in_transaction() or session.identity_map:
            await session.close()


SettingsDep = Annotated[Settings, Depends(get_settings)]
ClockDep = Annotated[Clock, Depends(get_clock)]


async def request_now(clock: ClockDep) -> datetime:
    """The clock read once a request (FastAPI caches it): what the request does and what it
    answers agree on the time."""
    return clock.now()


NowDep = Annotated[datetime, Depends(request_now)]
# scope="function": the commit runs when the route returns, before the response goes out.
SessionDep = Annotated[AsyncSession, Depends(request_transaction, scope="function")]


@dataclass(frozen=True)
class RecruiterEdit:
    """What adding or changing a recruiter takes besides its fields: how these settings read
    numbers and zones, and the request's time."""

    numbering: Numbering
    at: datetime


async def get_recruiter_edit(settings: SettingsDep, clock: ClockDep) -> RecruiterEdit:
    return RecruiterEdit(Numbering.of(settings), clock.now())


RecruiterEditDep = Annotated[RecruiterEdit, Depends(get_recruiter_edit)]
