"""Webhooks that flag or unflag a recruiter lock the recruiter's row before its obligations',
in the order the worker's nudge pass takes them, so the two never deadlock on PostgreSQL."""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Connection, text

from app.clock import ManualClock
from app.config import Settings
from app.models import Obligation, ObligationEvent, Recruiter
from app.outbox.worker import Worker
from tests.conftest import Webhook
from tests.outbox.helpers import Sessions, first_nudge, missed_call, report, sent_nudge
from tests.support.databases import TestDatabase
from tests.support.factories import T0, make_recruiter

pytestmark = pytest.mark.postgres_only


@contextmanager
def nudge_pass_holding(db: TestDatabase, recruiter: Recruiter) -> Iterator[Connection]:
    """A transaction that has locked the recruiter's row as the nudge pass does, and will
    lock their obligations next."""
    with db.engine.connect() as connection, connection.begin():
        connection.execute(
            text("SELECT id FROM recruiters WHERE id = :id FOR NO KEY UPDATE"), {"id": recruiter.id}
        )
        yield connection


async def blocked_by(connection: Connection) -> None:
    """Wait until another session waits for a lock `connection` holds."""
    holder = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    waiting = text("SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))")
    with db_probe(connection) as probe:
        for _ in range(250):
            blocked = probe.execute(waiting, {"pid": holder}).scalar_one()
            probe.rollback()  # the statistics are a snapshot per transaction
            if blocked:
                return
            await asyncio.sleep(0.02)
    raise AssertionError("nothing waited for the nudge pass's lock")


@contextmanager
def db_probe(connection: Connection) -> Iterator[Connection]:
    with connection.engine.connect() as probe:
        yield probe


def lock_obligations_now(connection: Connection, recruiter: Recruiter) -> None:
    """The nudge pass's next step; fails at once if the webhook holds an obligation's row."""
    connection.execute(
        text("SELECT id FROM obligations WHERE recruiter_id = :id FOR UPDATE NOWAIT"),
        {"id": recruiter.id},
    )


async def test_a_permanent_failure_report_waits_for_the_recruiter_before_the_obligations(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    clock: ManualClock,
    worker: Worker,
    webhook: Webhook,
) -> None:
    recruiter = await first_nudge(db, sessions, settings, clock)
    item = await sent_nudge(db, worker)
    failed = report(item, "failed", ErrorCode="21610")
    with nudge_pass_holding(db, recruiter) as nudge_pass:
        reported = asyncio.create_task(webhook(f"/twilio/sms/status?outbox={item.id}", failed))
        await blocked_by(nudge_pass)
        lock_obligations_now(nudge_pass, recruiter)
    assert (await reported).status_code == 204
    assert db.one(Recruiter).sms_error_code == 21610
    assert db.one(Obligation).sms_error_code == 21610
    assert db.count(ObligationEvent, ObligationEvent.kind == "nudge_failed") == 1


async def test_start_unflags_the_recruiter_before_the_obligations(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    webhook: Webhook,
) -> None:
    recruiter = make_recruiter(db, sms_blocked_at=T0, sms_error_code=21610)
    await missed_call(sessions, settings, recruiter, at=T0)
    with db.session() as session:
        session.query(Obligation).update({"sms_error_code": 21610})
        session.commit()
    start = {
        "MessageSid": "SM" + "5" * 32,
        "From": recruiter.mobile,
        "To": recruiter.line,
        "Body": "START",
        "AccountSid": "AC" + "f" * 32,
    }
    with nudge_pass_holding(db, recruiter) as nudge_pass:
        started = asyncio.create_task(webhook("/twilio/sms/incoming", start))
        await blocked_by(nudge_pass)
        lock_obligations_now(nudge_pass, recruiter)
    assert (await started).status_code == 200
    assert db.one(Recruiter).sms_error_code is None
    assert db.one(Obligation).sms_error_code is None
