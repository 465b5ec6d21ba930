"""RETENTION_DAYS: the worker redacts closed obligations older than that, in small batches,
at most once a minute; off by default."""

from datetime import timedelta
from typing import Any

import pytest

from app.care import retention
from app.care.loop import CareLoop
from app.clock import ManualClock
from app.models import AuditEntry, CloseReason, Obligation, ObligationStatus, Recruiter
from app.runtime import Runtime
from tests.support.databases import TestDatabase
from tests.support.factories import T0, make_obligation

NOW = T0 + timedelta(days=60)


def closed(recruiter: Recruiter, days_ago: float, caller: str = "+447700900123") -> Obligation:
    at = NOW - timedelta(days=days_ago)
    return make_obligation(
        recruiter,
        caller=caller,
        caller_name="Sam",
        opened_at=at - timedelta(hours=1),
        status=ObligationStatus.CLOSED,
        closed_at=at,
        close_reason=CloseReason.CALLBACK,
    )


class TestRetentionOn:
    @pytest.fixture
    def settings_overrides(self, settings_overrides: dict[str, Any]) -> dict[str, Any]:
        return settings_overrides | {"retention_days": "30"}

    async def test_closed_obligations_older_than_retention_are_redacted(
        self, recruiter: Recruiter, runtime: Runtime, clock: ManualClock, db: TestDatabase
    ) -> None:
        clock.set(NOW)
        old, recent = closed(recruiter, 31), closed(recruiter, 29, caller="+447700900456")
        db.add(old)
        db.add(recent)
        db.add(
            make_obligation(recruiter, caller="+447700900789", opened_at=NOW - timedelta(days=90))
        )
        assert await CareLoop(runtime).run_once() == (1, 0)
        by_id = {o.id: o for o in db.all(Obligation)}
        assert by_id[old.id].caller is None and by_id[old.id].caller_name is None
        assert by_id[old.id].redacted_at == NOW
        assert by_id[old.id].close_reason is CloseReason.CALLBACK  # stats keep their facts
        assert by_id[recent.id].caller == "+447700900456"
        assert len([o for o in by_id.values() if o.caller is not None]) == 2
        [line] = db.all(AuditEntry)
        assert line.action == "retention" and line.detail["obligations"] == 1

    async def test_it_works_in_small_batches_at_most_once_a_minute(
        self,
        recruiter: Recruiter,
        runtime: Runtime,
        clock: ManualClock,
        db: TestDatabase,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(retention, "BATCH", 4)
        clock.set(NOW)
        for n in range(10):
            db.add(closed(recruiter, 40 + n, caller=f"+4477009001{n:02d}"))
        care = CareLoop(runtime)
        assert await care.run_once() == (10, 0)
        assert len(db.all(AuditEntry)) == 3  # one short transaction per batch of 4
        db.add(closed(recruiter, 45, caller="+447700900999"))
        clock.advance(timedelta(seconds=59))
        assert await care.run_once() == (0, 0)
        clock.advance(timedelta(seconds=1))
        assert await care.run_once() == (1, 0)


async def test_retention_is_off_by_default(
    recruiter: Recruiter, runtime: Runtime, clock: ManualClock, db: TestDatabase
) -> None:
    clock.set(NOW)
    db.add(closed(recruiter, 3650))
    assert runtime.settings.retention_days is None
    assert await CareLoop(runtime).run_once() == (0, 0)
    assert db.one(Obligation).caller == "+447700900123"
