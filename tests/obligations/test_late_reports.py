"""Late and out-of-order reports of different calls: Twilio's own times decide."""

from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.clock import ManualClock
from app.models import CloseReason, Obligation, ObligationEvent, ObligationStatus, Voicemail
from app.obligations.returns import record_miss
from app.obligations.returns_late import close_answered
from app.obligations.service import CallFacts
from app.reminders.policy import NudgePolicy
from app.twilio import twiml
from tests.obligations import reports
from tests.obligations.delivery import deliver
from tests.obligations.reports import CALLER
from tests.support.databases import TestDatabase
from tests.support.factories import T0, make_recruiter
from tests.support.signer import TwilioSigner, post_webhook

MINUTE = timedelta(minutes=1)
POLICY = NudgePolicy((2 * MINUTE, timedelta(hours=1)), 10, 3)


def timeline(db: TestDatabase, obligation: Obligation) -> list[tuple[str, bool]]:
    events = db.all(ObligationEvent, ObligationEvent.obligation_id == obligation.id)
    return [(e.kind, bool((e.detail or {}).get("late"))) for e in events]


async def test_a_callback_reported_before_the_late_miss_it_returned_closes_it_unnudged(
    client: httpx.AsyncClient, signer: TwilioSigner, clock: ManualClock, db: TestDatabase
) -> None:
    # Issue 7's reproduction: `completed` of the callback first, `no-answer` of the miss later.
    line = make_recruiter(db).line
    callback = reports.callback("CAback", line=line, connected=T0 + 2 * MINUTE)
    miss = reports.miss("CAmiss", line=line, at=T0)

    await deliver(client, signer, clock, [(T0 + 3 * MINUTE, callback), (T0 + 5 * MINUTE, miss)])

    obligation = db.one(Obligation)
    assert (obligation.status, obligation.close_reason) == ("closed", CloseReason.CALLBACK)
    assert (obligation.opened_at, obligation.closed_at) == (T0, T0 + 2 * MINUTE)
    assert obligation.next_reminder_at is None and obligation.seconds_to_close == 120
    assert timeline(db, obligation) == [("opened", True), ("closed", True)]


async def test_a_dial_action_miss_made_before_a_reported_callback_opens_closed(
    client: httpx.AsyncClient, signer: TwilioSigner, clock: ManualClock, db: TestDatabase
) -> None:
    # On PostgreSQL the Dial action's one-statement miss hands this one to the general path.
    recruiter = make_recruiter(db)
    callback = reports.callback("CAback", line=recruiter.line, connected=T0 + 2 * MINUTE)
    await deliver(client, signer, clock, [(T0 + 3 * MINUTE, callback)])
    clock.set(T0 + MINUTE)
    dial = {"CallSid": "CAmiss", "From": CALLER, "To": recruiter.line, "Direction": "inbound"}
    dial |= {"CallStatus": "in-progress", "DialCallStatus": "no-answer", "DialBridged": "false"}
    response = await post_webhook(
        client, signer, f"{twiml.DIAL_RESULT}?recruiter={recruiter.id}", dial
    )

    assert response.status_code == 200
    obligation = db.one(Obligation)
    assert (obligation.status, obligation.close_reason) == ("closed", CloseReason.CALLBACK)
    assert obligation.next_reminder_at is None


async def test_a_repeat_call_taken_before_the_late_miss_closes_it_as_answered(
    client: httpx.AsyncClient, signer: TwilioSigner, clock: ManualClock, db: TestDatabase
) -> None:
    recruiter = make_recruiter(db)
    taken = reports.answered(
        "CAtaken", line=recruiter.line, recruiter_id=recruiter.id, connected=T0 + MINUTE
    )
    miss = reports.miss("CAmiss", line=recruiter.line, at=T0)

    await deliver(client, signer, clock, [(taken.sent_at, taken), (T0 + 4 * MINUTE, miss)])

    obligation = db.one(Obligation)
    assert (obligation.close_reason, obligation.closed_at) == (CloseReason.ANSWERED, T0 + MINUTE)


async def test_a_miss_after_the_callback_but_reported_before_it_stays_open_on_its_own(
    client: httpx.AsyncClient, signer: TwilioSigner, clock: ManualClock, db: TestDatabase
) -> None:
    line = make_recruiter(db).line
    first = reports.miss("CAfirst", line=line, at=T0)
    again = reports.miss("CAagain", line=line, at=T0 + 5 * MINUTE)
    callback = reports.callback("CAback", line=line, connected=T0 + 2 * MINUTE)

    arrivals = [(T0 + MINUTE, first), (T0 + 5 * MINUTE, again), (T0 + 6 * MINUTE, callback)]
    await deliver(client, signer, clock, arrivals)

    returned, open_again = db.all(Obligation, order_by=Obligation.opened_at)
    assert (returned.status, returned.missed_calls, returned.last_missed_at) == ("closed", 1, T0)
    assert (open_again.status, open_again.opened_at) == (ObligationStatus.OPEN, T0 + 5 * MINUTE)
    assert open_again.next_reminder_at == T0 + 7 * MINUTE
    assert [kind for kind, _ in timeline(db, returned)] == ["opened", "closed"]
    assert [kind for kind, _ in timeline(db, open_again)] == ["opened"]


async def test_an_unanswered_callback_reported_after_the_close_counts_where_it_belongs(
    client: httpx.AsyncClient, signer: TwilioSigner, clock: ManualClock, db: TestDatabase
) -> None:
    line = make_recruiter(db).line
    miss = reports.miss("CAmiss", line=line, at=T0)
    tried = reports.attempt("CAtried", line=line, at=T0 + MINUTE)
    callback = reports.callback("CAback", line=line, connected=T0 + 2 * MINUTE)

    arrivals = [(T0, miss), (T0 + 3 * MINUTE, callback), (T0 + 9 * MINUTE, tried)]
    await deliver(client, signer, clock, arrivals)

    obligation = db.one(Obligation)
    assert (obligation.status, obligation.callback_attempts) == ("closed", 1)
    assert ("callback_attempt", True) in timeline(db, obligation)


async def test_a_timestamp_hours_old_counts_one_hour_before_arrival(
    client: httpx.AsyncClient, signer: TwilioSigner, clock: ManualClock, db: TestDatabase
) -> None:
    line = make_recruiter(db).line
    forged = reports.miss("CAmiss", line=line, at=T0 - timedelta(hours=5))

    await deliver(client, signer, clock, [(T0, forged)])

    assert db.one(Obligation).opened_at == T0 - timedelta(hours=1)


async def test_a_voicemail_is_on_the_timeline_when_its_recording_started(
    client: httpx.AsyncClient, signer: TwilioSigner, clock: ManualClock, db: TestDatabase
) -> None:
    line = make_recruiter(db).line
    await deliver(client, signer, clock, [(T0, reports.miss("CAmiss", line=line, at=T0))])
    clock.set(T0 + 4 * MINUTE)
    recording = {
        "CallSid": "CAmiss",
        "RecordingSid": "RE1",
        "RecordingStatus": "completed",
        "RecordingUrl": "https://api.twilio.com/recording",
        "RecordingDuration": "9",
        "RecordingStartTime": "Mon, 05 Jan 2026 10:00:20 +0000",
    }
    assert (await post_webhook(client, signer, twiml.RECORDING, recording)).status_code == 204

    assert db.one(Voicemail).obligation_id is not None
    event = db.one(ObligationEvent, ObligationEvent.kind == "voicemail")
    assert event.at == T0 + timedelta(seconds=20)


async def test_a_miss_before_a_return_says_so_in_its_result(
    sessions: async_sessionmaker[AsyncSession], db: TestDatabase
) -> None:
    # A caller text-back (another module) skips misses that come back `returned`.
    recruiter = make_recruiter(db)
    taken = CallFacts("CAtaken", "inbound", CALLER, recruiter.line, "completed", T0 + MINUTE)
    missed = CallFacts("CAmiss", "inbound", CALLER, recruiter.line, "no-answer", T0)
    async with sessions() as session, session.begin():
        await close_answered(
            session, call=taken, recruiter_id=recruiter.id, caller=CALLER, policy=POLICY
        )
    async with sessions() as session, session.begin():
        result = await record_miss(
            session, call=missed, recruiter_id=recruiter.id, caller=CALLER, policy=POLICY
        )
    async with sessions() as session, session.begin():
        again = await record_miss(
            session, call=missed, recruiter_id=recruiter.id, caller=CALLER, policy=POLICY
        )

    assert (result.counted, result.opened, result.returned) == (True, True, True)
    assert (again.counted, again.returned) == (False, False)
