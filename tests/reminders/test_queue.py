"""What a pass queues: nothing outside working hours, digests, escalation, the withheld SMS."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.clock import ManualClock
from app.config import Settings
from app.db import unit_of_work
from app.models import (
    CloseReason,
    Obligation,
    ObligationEvent,
    OutboxItem,
    OutboxObligation,
    OutboxStatus,
    Voicemail,
)
from app.obligations.service import close, locked
from app.outbox.worker import Worker
from app.reminders.queue import TRANSCRIPT_WAIT, Nudging, queue_due_nudges
from tests.outbox.helpers import (
    Sessions,
    first_nudge,
    missed_call,
    sms_to,
    voicemail,
    withheld_voicemail,
)
from tests.support.databases import TestDatabase
from tests.support.factories import T0, make_recruiter
from tests.support.fake_twilio import FakeTwilio

MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
OFFICE = {day: [["09:00", "17:30"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("timezone", "missed", "opens"),
    [
        # Friday 9 Jan 17:29 GMT → Monday 12 Jan 09:00 GMT.
        ("Europe/London", utc(2026, 1, 9, 17, 29), utc(2026, 1, 12, 9, 0)),
        # Friday 6 Mar 17:29 EST; clocks go forward on Sunday → Monday 9 Mar 09:00 EDT.
        ("America/New_York", utc(2026, 3, 6, 22, 29), utc(2026, 3, 9, 13, 0)),
        # Friday 27 Mar 17:29 GMT; British Summer Time starts Sunday → Monday 09:00 BST.
        ("Europe/London", utc(2026, 3, 27, 17, 29), utc(2026, 3, 30, 8, 0)),
        # Friday 23 Oct 17:29 BST; clocks go back on Sunday → Monday 26 Oct 09:00 GMT.
        ("Europe/London", utc(2026, 10, 23, 16, 29), utc(2026, 10, 26, 9, 0)),
    ],
    ids=["weekend", "new-york-spring-forward", "london-spring-forward", "london-fall-back"],
)
async def test_a_nudge_due_outside_working_hours_waits_for_the_next_working_period(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
    timezone: str,
    missed: datetime,
    opens: datetime,
) -> None:
    recruiter = make_recruiter(db, timezone=timezone, working_hours=OFFICE)
    await missed_call(sessions, settings, recruiter, at=missed)
    for moment in (missed + 2 * MINUTE, missed + DAY, opens - MINUTE):
        clock.set(moment)
        await worker.run_once()
    assert fake_twilio.messages == []
    assert db.one(Obligation).next_reminder_at == opens
    clock.set(opens)
    await worker.run_once()
    assert len(sms_to(fake_twilio, recruiter.mobile)) == 1


async def test_three_due_for_one_recruiter_go_out_as_one_digest(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    recruiter, other = make_recruiter(db), make_recruiter(db)
    callers = ["+447700900001", "+447700900002", "+447700900003"]
    ids = [await missed_call(sessions, settings, recruiter, at=T0, caller=c) for c in callers]
    await missed_call(sessions, settings, other, at=T0)
    await missed_call(sessions, settings, other, at=T0, caller="+447700900004")
    clock.set(T0 + 2 * MINUTE)
    await worker.run_once()
    [digest] = sms_to(fake_twilio, recruiter.mobile)
    assert digest["body"].startswith("3 callers to call back:\n")
    for obligation_id, line in zip(ids, digest["body"].splitlines()[1:4], strict=True):
        assert line.startswith(f"#{obligation_id} +44 7700 900")
        assert line.endswith("1 call, last 2m ago")
    item = db.one(OutboxItem, OutboxItem.to_number == recruiter.mobile)
    assert item.purpose == "digest"
    linked = db.all(OutboxObligation, OutboxObligation.outbox_id == item.id)
    assert sorted(link.obligation_id for link in linked) == sorted(ids)
    assert len(sms_to(fake_twilio, other.mobile)) == 2  # two are not a digest
    assert {o.reminders_sent for o in db.all(Obligation)} == {1}


async def test_a_long_digest_lists_what_fits_and_counts_the_rest(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    recruiter = make_recruiter(db)
    for n in range(12):
        await missed_call(sessions, settings, recruiter, at=T0, caller=f"+4477009001{n:02d}")
    clock.set(T0 + 2 * MINUTE)
    await worker.run_once()
    [digest] = sms_to(fake_twilio, recruiter.mobile)
    listed = [line for line in digest["body"].splitlines() if line.startswith("#")]
    assert 3 <= len(listed) < 12
    assert f"+{12 - len(listed)} more: reply LIST" in digest["body"]
    assert len(digest["body"]) <= 306


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    return getattr(request, "param", {"escalate_after": 2, "reminder_schedule": "2m,1h"})


async def test_an_unanswered_obligation_escalates_once(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    recruiter = make_recruiter(db, name="Alice Smith", escalation_number="+447700900999")
    obligation_id = await missed_call(sessions, settings, recruiter, at=T0)
    for due in (2 * MINUTE, HOUR + 2 * MINUTE):  # two nudges, neither answered yet
        clock.set(T0 + due)
        await worker.run_once()
    assert sms_to(fake_twilio, "+447700900999") == []
    for due in range(2, 8):  # due again: both went unanswered
        clock.set(T0 + due * HOUR + 2 * MINUTE)
        await worker.run_once()
    [escalation] = sms_to(fake_twilio, "+447700900999")
    assert escalation["from"] == recruiter.line
    assert escalation["body"] == (
        f"#{obligation_id} Escalation: Alice Smith has not called back +44 7700 900123 "
        f"after 2 reminders (missed call 2h ago)."
    )
    obligation = db.one(Obligation)
    assert obligation.escalated_at == T0 + 2 * HOUR + 2 * MINUTE
    assert obligation.reminders_sent == 8
    assert db.count(ObligationEvent, ObligationEvent.kind == "escalated") == 1


@pytest.mark.parametrize(
    "settings_overrides",
    [{"escalate_after": 2, "reminder_max": 2, "escalation_number": "+447700900998"}],
    indirect=True,
)
async def test_escalation_goes_to_the_default_number_even_after_the_last_nudge(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    recruiter = make_recruiter(db)
    await missed_call(sessions, settings, recruiter, at=T0)
    for hours in range(0, 24 * 7, 2):
        clock.set(T0 + timedelta(hours=hours, minutes=2))
        await worker.run_once()
    assert len(sms_to(fake_twilio, recruiter.mobile)) == 2
    assert len(sms_to(fake_twilio, "+447700900998")) == 1
    obligation = db.one(Obligation)
    assert obligation.escalated_at is not None and obligation.next_reminder_at is None


async def test_a_withheld_callers_voicemail_gets_exactly_one_sms_with_the_transcript(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    recruiter = make_recruiter(db)
    obligation_id = await withheld_voicemail(
        sessions, settings, recruiter, at=T0, transcript="Hi, it’s Sam about the nurse role."
    )
    for later in (2 * MINUTE, HOUR, DAY, 7 * DAY):
        clock.set(T0 + later)
        await worker.run_once()
    [message] = sms_to(fake_twilio, recruiter.mobile)
    assert message["body"] == (
        f"#{obligation_id} A withheld number left a voicemail 2m ago: \"Hi, it's Sam about the "
        f'nurse role."\nThere is no number to call back. Reply DONE {obligation_id} when handled.'
    )
    obligation = db.one(Obligation)
    assert obligation.status == "open" and obligation.next_reminder_at is None


async def test_the_withheld_callers_sms_waits_for_a_transcript_that_comes_late(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    recruiter = make_recruiter(db)
    await withheld_voicemail(sessions, settings, recruiter, at=T0, transcript=None)
    clock.set(T0 + 2 * MINUTE)
    await worker.run_once()
    assert fake_twilio.messages == []
    transcribed(db, "Hi, it's Sam about the nurse role.", at=T0 + 4 * MINUTE)
    for later in (4 * MINUTE, HOUR, DAY):
        clock.set(T0 + later)
        await worker.run_once()
    [message] = sms_to(fake_twilio, recruiter.mobile)
    assert 'left a voicemail 4m ago: "Hi, it\'s Sam about the nurse role."' in message["body"]


async def test_the_withheld_callers_sms_waits_ten_minutes_at_most_for_the_transcript(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    recruiter = make_recruiter(db)
    await withheld_voicemail(sessions, settings, recruiter, at=T0, transcript=None)
    for later in (2 * MINUTE, 5 * MINUTE, TRANSCRIPT_WAIT - timedelta(seconds=1)):
        clock.set(T0 + later)
        await worker.run_once()
    assert fake_twilio.messages == []
    for later in (TRANSCRIPT_WAIT, HOUR, DAY):
        clock.set(T0 + later)
        await worker.run_once()
    [message] = sms_to(fake_twilio, recruiter.mobile)
    assert "left a voicemail 10m ago (no transcript)" in message["body"]


async def test_a_failed_transcription_does_not_hold_the_withheld_callers_sms(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    recruiter = make_recruiter(db)
    await withheld_voicemail(sessions, settings, recruiter, at=T0, transcript=None)
    with db.session() as session:
        session.query(Voicemail).update({"transcript_status": "failed"})
        session.commit()
    clock.set(T0 + 2 * MINUTE)
    await worker.run_once()
    assert len(sms_to(fake_twilio, recruiter.mobile)) == 1


def transcribed(db: TestDatabase, text: str, *, at: datetime) -> None:
    """The transcription callback of the (only) voicemail arrives."""
    with db.session() as session:
        session.query(Voicemail).update(
            {"transcript": text, "transcript_status": "completed", "updated_at": at}
        )
        session.commit()


async def test_the_nudge_quotes_the_start_of_the_voicemail(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    recruiter = make_recruiter(db)
    obligation_id = await missed_call(sessions, settings, recruiter, at=T0, call_sid="CAvm")
    assert obligation_id is not None
    long_story = "Hello, this is Jane Doe calling about the staff nurse vacancy. " * 10
    await voicemail(
        sessions, obligation_id=obligation_id, call_sid="CAvm", at=T0, transcript=long_story
    )
    clock.set(T0 + 2 * MINUTE)
    await worker.run_once()
    [message] = sms_to(fake_twilio, recruiter.mobile)
    assert 'Voicemail: "Hello, this is Jane Doe calling about the staff nurse' in message["body"]
    assert '..."' in message["body"] and len(message["body"]) <= 306
    assert message["body"].endswith(f"CALL {obligation_id}")


async def test_a_nudge_whose_obligation_closed_before_it_went_out_is_cancelled(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    await first_nudge(db, sessions, settings, clock)
    await queue_due_nudges(
        worker.runtime.sessions, nudging=Nudging.of(settings), now=clock.now, stopping=lambda: False
    )
    async with unit_of_work(sessions) as session:
        await close(
            session,
            obligation=await locked(session, db.one(Obligation).id),
            reason=CloseReason.RECRUITER,
            actor="recruiter:1",
            at=clock.now(),
        )
    await worker.run_once()
    assert fake_twilio.messages == []
    assert db.one(OutboxItem).status is OutboxStatus.CANCELLED
