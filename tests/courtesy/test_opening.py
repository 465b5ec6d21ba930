"""Both miss paths leave a new obligation pending, and the promise pass gives each exactly
one text-back however many workers run it at once."""

import asyncio
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.clock import ManualClock
from app.config import Settings
from app.courtesy.opening import open_promises
from app.courtesy.policy import Courtesy
from app.models import CallerText, Obligation, OutboxItem
from tests.outbox.helpers import missed_call
from tests.support.databases import TestDatabase
from tests.support.factories import T0, make_recruiter

Sessions = async_sessionmaker[AsyncSession]


async def test_record_miss_opens_pending_and_a_repeat_leaves_it_as_it_is(
    db: TestDatabase, sessions: Sessions, settings: Settings
) -> None:
    recruiter = make_recruiter(db)
    await missed_call(sessions, settings, recruiter, at=T0)
    assert db.one(Obligation).caller_text is CallerText.PENDING

    await open_promises(
        sessions, courtesy=Courtesy.of(settings), now=lambda: T0, stopping=lambda: False
    )
    await missed_call(sessions, settings, recruiter, at=T0 + timedelta(minutes=5))

    obligation = db.one(Obligation)
    assert (obligation.missed_calls, obligation.caller_text) == (2, CallerText.QUEUED)


async def test_two_passes_at_once_queue_one_text_per_obligation(
    db: TestDatabase, sessions: Sessions, settings: Settings, clock: ManualClock
) -> None:
    recruiter = make_recruiter(db)
    for n in range(120):
        caller = f"+4477009{n:05d}"
        await missed_call(sessions, settings, recruiter, at=T0, caller=caller)
    courtesy = Courtesy.of(settings)

    queued = await asyncio.gather(
        *(
            open_promises(sessions, courtesy=courtesy, now=clock.now, stopping=lambda: False)
            for _ in range(2)
        )
    )

    assert sum(queued) == 120
    assert db.count(OutboxItem) == 120
    assert db.count(Obligation, Obligation.caller_text == CallerText.QUEUED) == 120
