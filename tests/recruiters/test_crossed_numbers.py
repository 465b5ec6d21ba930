"""Two recruiters created at once cannot cross: one's line the other's mobile."""

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.errors import Conflict
from app.models import Recruiter
from app.recruiters.service import Numbering, create_recruiter
from tests.support.databases import TestDatabase

AT = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
NUMBERING = Numbering("US", "UTC")
ALICE = {"name": "Alice", "line": "+15005550101", "mobile": "+14155550101"}
BOB = {"name": "Bob", "line": ALICE["mobile"], "mobile": "+14155550202"}  # Alice's mobile


async def test_a_create_racing_one_that_would_cross_it_is_refused(
    sessions: async_sessionmaker[AsyncSession], db: TestDatabase
) -> None:
    async with sessions() as first:
        await create_recruiter(first, fields=ALICE, numbering=NUMBERING, at=AT)
        # Alice's transaction is open (her row flushed, not committed) while Bob's begins.
        second = asyncio.create_task(_create(sessions, BOB))
        await asyncio.sleep(0.5)
        assert not second.done()  # Bob waits for Alice's check to end
        await first.commit()
    with pytest.raises(Conflict, match="is the mobile of active recruiter"):
        await second
    assert [r.name for r in db.all(Recruiter)] == ["Alice"]


async def _create(sessions: async_sessionmaker[AsyncSession], fields: dict[str, str]) -> None:
    async with sessions() as session:
        await create_recruiter(session, fields=fields, numbering=NUMBERING, at=AT)
        await session.commit()
