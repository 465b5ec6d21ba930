"""Recruiters and their lines: look-ups by line, mobile and softphone identity; management."""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, InvalidInput, NotFound
from app.models import Recruiter
from app.recruiters.fields import Numbering as Numbering
from app.recruiters.fields import cleaned


async def active_by_line(session: AsyncSession, line: str) -> Recruiter | None:
    """The active recruiter whose Twilio number is `line` (E.164)."""
    return (
        await session.scalars(select(Recruiter).where(Recruiter.line == line, Recruiter.active))
    ).one_or_none()


async def active_by_mobile(session: AsyncSession, mobile: str) -> Recruiter | None:
    """The active recruiter whose own mobile is `mobile` (E.164)."""
    return (
        await session.scalars(select(Recruiter).where(Recruiter.mobile == mobile, Recruiter.active))
    ).one_or_none()


async def active_by_identity(session: AsyncSession, identity: str) -> Recruiter | None:
    """The active recruiter whose softphone identity (`client:NAME`, `sip:NAME@…`) is `identity`."""
    return (
        await session.scalars(
            select(Recruiter).where(Recruiter.client_identity == identity, Recruiter.active)
        )
    ).one_or_none()


# -- managing recruiters (ops API and CLI) -------------------------------------------------

# Which partial unique index a failed write hit (PostgreSQL names it, SQLite names columns).
_UNIQUE = {
    "line": ("uq_recruiters_active_line", "recruiters.line"),
    "mobile": ("uq_recruiters_active_mobile", "recruiters.mobile"),
    "client_identity": ("uq_recruiters_active_client_identity", "recruiters.client_identity"),
    "slug": ("uq_recruiters_active_slug", "recruiters.slug"),
}


async def create_recruiter(
    session: AsyncSession,
    *,
    fields: Mapping[str, Any],
    numbering: Numbering,
    at: datetime,
) -> Recruiter:
    """Add an active recruiter; InvalidInput names a bad field, Conflict a number in use."""
    values = {"timezone": numbering.default_timezone} | dict(fields)
    missing = [name for name in ("name", "mobile", "line") if values.get(name) is None]
    if missing:
        raise InvalidInput(f"{missing[0]} is required", field=missing[0])
    recruiter = Recruiter(active=True, created_at=at)
    await _save(session, recruiter, cleaned(values, numbering) | {"updated_at": at})
    return recruiter


async def update_recruiter(
    session: AsyncSession,
    *,
    recruiter_id: int,
    changes: Mapping[str, Any],
    numbering: Numbering,
    at: datetime,
) -> Recruiter:
    """Change the given fields of an active recruiter; the same checks as on creation."""
    recruiter = await active_by_id(session, recruiter_id)
    await _save(session, recruiter, cleaned(changes, numbering) | {"updated_at": at})
    return recruiter


async def deactivate_recruiter(session: AsyncSession, *, recruiter_id: int, at: datetime) -> None:
    """Stop forwarding the recruiter's line; their obligations stay as they are."""
    recruiter = await active_by_id(session, recruiter_id)
    recruiter.active = False
    recruiter.updated_at = at
    await session.flush()


async def active_by_id(session: AsyncSession, recruiter_id: int) -> Recruiter:
    """The active recruiter `recruiter_id`; NotFound if there is none (or it was deactivated)."""
    recruiter = await session.get(Recruiter, recruiter_id)
    if recruiter is None or not recruiter.active:
        raise NotFound(f"recruiter {recruiter_id} does not exist or was deactivated")
    return recruiter


async def list_recruiters(
    session: AsyncSession, *, include_inactive: bool = False
) -> Sequence[Recruiter]:
    """Recruiters in id order; only the active ones unless told otherwise."""
    statement = select(Recruiter).order_by(Recruiter.id)
    if not include_inactive:
        statement = statement.where(Recruiter.active)
    return (await session.scalars(statement)).all()


async def _save(session: AsyncSession, recruiter: Recruiter, values: Mapping[str, Any]) -> None:
    """Set `values` and flush in a savepoint; a number another active recruiter holds is a
    Conflict.

    The partial unique indexes decide, not a look-up first: two requests racing for one
    line cannot both win.
    """
    wanted = {field: values.get(field, getattr(recruiter, field, None)) for field in _UNIQUE}
    if wanted["mobile"] == wanted["line"]:
        raise InvalidInput("mobile and line must be different numbers", field="line")
    await _refuse_crossed_numbers(session, recruiter, line=wanted["line"], mobile=wanted["mobile"])
    try:
        # Inside the savepoint, so a clash rolls back only this change (PostgreSQL would
        # otherwise refuse the rest of the transaction).
        async with session.begin_nested():
            for name, value in values.items():
                setattr(recruiter, name, value)
            session.add(recruiter)
    except IntegrityError as exc:
        field = next(
            (name for name, marks in _UNIQUE.items() if any(m in str(exc.orig) for m in marks)),
            None,
        )
        if field is None:
            raise
        holder = (
            await session.execute(
                select(Recruiter.id, Recruiter.name).where(
                    getattr(Recruiter, field) == wanted[field], Recruiter.active
                )
            )
        ).first()
        whose = f"active recruiter {holder.id} ({holder.name})" if holder else "an active recruiter"
        raise Conflict(f"{field} {wanted[field]} already belongs to {whose}") from None


async def _refuse_crossed_numbers(
    session: AsyncSession, recruiter: Recruiter, *, line: str, mobile: str
) -> None:
    """Conflict if the line is another active recruiter's mobile, or the mobile their line:
    an SMS from that mobile would be read as commands, and calls to that line would ring
    two people.

    (No index can hold this across two columns: every write of a recruiter's numbers
    takes one lock first, so two of them never check at once.)
    """
    await _serialise_number_writes(session)
    others: list[ColumnElement[bool]] = [Recruiter.active.is_(True)]
    if recruiter.id is not None:
        others.append(Recruiter.id != recruiter.id)
    for field, number, their in (("line", line, "mobile"), ("mobile", mobile, "line")):
        holder = (
            await session.execute(
                select(Recruiter.id, Recruiter.name).where(
                    getattr(Recruiter, their) == number, *others
                )
            )
        ).first()
        if holder is not None:
            raise Conflict(
                f"{field} {number} is the {their} of active recruiter {holder.id} ({holder.name})"
            )


# Any 64-bit key of this service's own (the start-up migration lock uses another).
_NUMBER_WRITES_LOCK = 0x63706C6E756D  # "cplnum"


async def _serialise_number_writes(session: AsyncSession) -> None:
    """On PostgreSQL, wait for the transaction lock every write of numbers takes (held until
    commit). SQLite's writers are serialised already: they BEGIN IMMEDIATE."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": _NUMBER_WRITES_LOCK}
        )
