"""Recruiters and their lines: look-ups by line, mobile and softphone identity."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Recruiter


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
