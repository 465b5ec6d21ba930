"""What a running service made of a simulated call or SMS: read through its ops API or its
database, for `callpledge simulate` to show.

The ops API (with a token) tells about obligations; the database tells about them too, and
is the only place the text of the SMS the worker sent is kept (the outbox).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import httpx
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.db import begin_read_only, create_async_db_engine, missing_sqlite_file, session_factory
from app.errors import NotFound
from app.models import Call, Obligation, OutboxItem, OutboxObligation, Recruiter
from app.obligations.queries import obligation_detail


@dataclass(frozen=True)
class ObligationState:
    id: int
    status: str
    caller: str | None
    missed_calls: int
    transcripts: tuple[str | None, ...]  # one per voicemail
    reminders_sent: int
    next_reminder_at: datetime | None
    close_reason: str | None
    events: tuple[str, ...]  # the timeline's kinds, oldest first


@dataclass(frozen=True)
class SentItem:
    """An outbox row: an SMS (or a call) the worker sends, or sent."""

    id: int
    kind: str
    to_number: str
    from_number: str | None
    body: str | None
    status: str


class Obligations(Protocol):
    async def by_id(self, obligation_id: int) -> ObligationState | None:
        """The obligation, if it exists."""

    async def of_call(self, *, line: str, call_sid: str) -> ObligationState | None:
        """The obligation a call to (or from) `line` belongs to."""

    async def latest(self, *, line: str, caller: str) -> ObligationState | None:
        """The newest obligation of the line's recruiter for `caller`."""


class DatabaseView:
    """Obligations and the outbox, read from the service's database."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def by_id(self, obligation_id: int) -> ObligationState | None:
        async with self._reading() as session:
            return await self._state(session, obligation_id)

    async def of_call(self, *, line: str, call_sid: str) -> ObligationState | None:
        async with self._reading() as session:
            found = await session.scalar(
                select(Call.obligation_id).where(Call.call_sid == call_sid)
            )
            return await self._state(session, found)

    async def latest(self, *, line: str, caller: str) -> ObligationState | None:
        async with self._reading() as session:
            found = await session.scalar(
                select(Obligation.id)
                .join(Recruiter, Recruiter.id == Obligation.recruiter_id)
                .where(Recruiter.line == line, Recruiter.active, Obligation.caller == caller)
                .order_by(Obligation.opened_at.desc(), Obligation.id.desc())
                .limit(1)
            )
            return await self._state(session, found)

    async def outbox_mark(self) -> int:
        """The newest outbox id now: items after it are the ones a simulation caused."""
        async with self._reading() as session:
            return int(await session.scalar(select(func.coalesce(func.max(OutboxItem.id), 0))) or 0)

    async def sent_after(self, mark: int, *, obligation_id: int | None = None) -> list[SentItem]:
        """Outbox items newer than `mark` (only those about `obligation_id`, if given)."""
        statement = select(OutboxItem).where(OutboxItem.id > mark).order_by(OutboxItem.id)
        if obligation_id is not None:
            statement = statement.join(
                OutboxObligation, OutboxObligation.outbox_id == OutboxItem.id
            ).where(OutboxObligation.obligation_id == obligation_id)
        async with self._reading() as session:
            items = (await session.scalars(statement)).all()
        return [
            SentItem(i.id, i.kind.value, i.to_number, i.from_number, i.body, i.status.value)
            for i in items
        ]

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session:
            await begin_read_only(session)
            yield session

    async def _state(
        self, session: AsyncSession, obligation_id: int | None
    ) -> ObligationState | None:
        if obligation_id is None:
            return None
        try:
            detail = await obligation_detail(session, obligation_id)
        except NotFound:
            return None
        obligation = detail.obligation
        return ObligationState(
            id=obligation.id,
            status=obligation.status.value,
            caller=obligation.caller,
            missed_calls=obligation.missed_calls,
            transcripts=tuple(v.transcript for v in detail.voicemails),
            reminders_sent=obligation.reminders_sent,
            next_reminder_at=obligation.next_reminder_at,
            close_reason=obligation.close_reason.value if obligation.close_reason else None,
            events=tuple(e.kind for e in detail.events),
        )


class ApiView:
    """Obligations read through the service's ops API with a bearer token."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def by_id(self, obligation_id: int) -> ObligationState | None:
        response = await self._http.get(f"/api/v1/obligations/{obligation_id}")
        if response.status_code == 404:
            return None
        return _state(_json(response))

    async def of_call(self, *, line: str, call_sid: str) -> ObligationState | None:
        recruiter_id = await self._recruiter_of(line)
        if recruiter_id is None:
            return None
        query: dict[str, str | int] = {"recruiter_id": recruiter_id, "limit": 200}
        while True:  # newest first: the call just made is on the first page, unless busy
            page = _json(await self._http.get("/api/v1/calls", params=query))
            found = [c["obligation_id"] for c in page["items"] if c["call_sid"] == call_sid]
            if found:
                return await self.by_id(found[0]) if found[0] is not None else None
            if page["next_cursor"] is None:
                return None
            query["cursor"] = page["next_cursor"]

    async def latest(self, *, line: str, caller: str) -> ObligationState | None:
        recruiter_id = await self._recruiter_of(line)
        if recruiter_id is None:
            return None
        query: dict[str, str | int] = {"recruiter_id": recruiter_id, "caller": caller, "limit": 1}
        page = _json(await self._http.get("/api/v1/obligations", params=query))
        return await self.by_id(page["items"][0]["id"]) if page["items"] else None

    async def _recruiter_of(self, line: str) -> int | None:
        recruiters = _json(await self._http.get("/api/v1/recruiters"))["items"]
        return next((int(r["id"]) for r in recruiters if r["line"] == line), None)


class ApiRefused(Exception):
    """The ops API did not take the token, or answered an error."""


def _json(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        raise ApiRefused(f"{response.request.url.path} answered {response.status_code}")
    return response.json()


def _state(body: dict[str, Any]) -> ObligationState:
    return ObligationState(
        id=int(body["id"]),
        status=body["status"],
        caller=body["caller"],
        missed_calls=int(body["missed_calls"]),
        transcripts=tuple(v.get("transcript") for v in body["voicemails"]),
        reminders_sent=int(body["reminders_sent"]),
        next_reminder_at=_time(body["next_reminder_at"]),
        close_reason=body["close_reason"],
        events=tuple(e["kind"] for e in body.get("events", [])),
    )


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True)
class View:
    """Where `simulate` learns what the service did; either part may be unavailable."""

    obligations: Obligations | None
    database: DatabaseView | None


@asynccontextmanager
async def open_view(settings: Settings, *, url: str, token: str | None) -> AsyncIterator[View]:
    """The ops API when there is a token, and the database when it can be reached."""
    # Never look at a SQLite file that is not there: opening it would create an empty one.
    exists = missing_sqlite_file(settings.database_url) is None
    engine = create_async_db_engine(settings.database_url) if exists else None
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=10) as http:
        try:
            database = await _database(engine)
            obligations: Obligations | None = ApiView(http) if token else database
            yield View(obligations, database)
        finally:
            if engine is not None:
                await engine.dispose()


async def _database(engine: Any) -> DatabaseView | None:
    if engine is None:
        return None
    view = DatabaseView(session_factory(engine))
    try:
        await view.outbox_mark()
    except (SQLAlchemyError, OSError):
        return None  # unreachable, or not this service's schema
    return view
