"""Items in doubt: a message found at Twilio goes to one outbox item only, a clash spoils no
other outcome, and a stuck item never keeps the rest of the outbox waiting."""

from datetime import timedelta
from typing import Any, NamedTuple

import pytest

from app.clock import ManualClock
from app.config import Settings
from app.db import unit_of_work
from app.models import OutboxItem, OutboxKind, OutboxStatus, Recruiter
from app.outbox.sender import SENDING_LEASE
from app.outbox.service import enqueue, sid_holders
from app.outbox.worker import Worker
from app.twilio.outbound import Outgoing
from tests.conftest import Webhook
from tests.outbox.helpers import Sessions, first_nudge, posts, sms_to
from tests.support.databases import TestDatabase
from tests.support.factories import T0, make_recruiter
from tests.support.fake_twilio import FakeTwilio

RELAYED = "SMS from +44 7700 900456: ok"  # two strangers' "ok" read the same once relayed
LATER = timedelta(minutes=5)


async def queue(
    sessions: Sessions,
    recruiter: Recruiter,
    key: str,
    *,
    at: Any,
    kind: OutboxKind = OutboxKind.SMS,
    body: str | None = RELAYED,
    to_number: str | None = None,
) -> int:
    """An outbox item for the recruiter's mobile, as a relay or a click-to-call queues it."""
    async with unit_of_work(sessions) as session:
        outbox_id = await enqueue(
            session,
            key=key,
            kind=kind,
            purpose="relay" if kind is OutboxKind.SMS else "click_to_call",
            to_number=to_number or recruiter.mobile,
            sender=recruiter,
            body=body if kind is OutboxKind.SMS else None,
            call_target="+447700900111" if kind is OutboxKind.CALL else None,
            at=at,
        )
    assert outbox_id is not None
    return outbox_id


def change(db: TestDatabase, outbox_id: int, **fields: Any) -> None:
    with db.session() as session:
        item = session.get(OutboxItem, outbox_id)
        assert item is not None
        for name, value in fields.items():
            setattr(item, name, value)
        session.commit()


class FoundMessage(NamedTuple):
    recruiter: Recruiter
    owner: int
    in_doubt: int
    unrelated: int
    made: dict[str, Any]


async def one_message_two_relays(
    db: TestDatabase, sessions: Sessions, fake_twilio: FakeTwilio
) -> FoundMessage:
    """Two identical relays for one recruiter and an unrelated SMS for another, all due at T0.

    The owner's first attempt made the message (its answer was lost) and waits to retry;
    the other relay's first attempt failed, and it is due again now.
    """
    recruiter, other = make_recruiter(db), make_recruiter(db)
    owner = await queue(sessions, recruiter, "relay:SM1", at=T0)
    in_doubt = await queue(sessions, recruiter, "relay:SM2", at=T0)
    unrelated = await queue(sessions, other, "relay:SM3", at=T0, body="unrelated")
    change(db, owner, attempts=1, next_attempt_at=T0 + timedelta(hours=1))
    change(db, in_doubt, attempts=1)
    made = fake_twilio.add(
        "Messages", to=recruiter.mobile, **{"from": recruiter.line}, body=RELAYED
    )
    return FoundMessage(recruiter, owner, in_doubt, unrelated, made)


async def test_two_identical_relays_in_doubt_end_as_two_messages_one_each(
    db: TestDatabase,
    sessions: Sessions,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    recruiter = make_recruiter(db)
    for key in ("relay:SM1", "relay:SM2"):
        await queue(sessions, recruiter, key, at=T0)
    fake_twilio.fail_next(method="POST", accept=True, drop=True)  # taken; the answer is lost
    fake_twilio.fail_next(method="POST", status=500)  # not taken
    await worker.run_once()
    assert len(fake_twilio.messages) == 1
    clock.advance(LATER)
    await worker.run_once()  # both in doubt, in one batch, and both find the one message
    items = db.all(OutboxItem)
    assert [item.status for item in items] == [OutboxStatus.SENT, OutboxStatus.SENT]
    assert {item.twilio_sid for item in items} == {m["sid"] for m in fake_twilio.messages}
    assert len(sms_to(fake_twilio, recruiter.mobile)) == 2 and posts(fake_twilio) == 3


async def test_two_click_to_calls_in_doubt_are_both_placed_once(
    db: TestDatabase,
    sessions: Sessions,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    recruiter = make_recruiter(db)
    for key in ("call:1", "call:2"):
        await queue(sessions, recruiter, key, at=T0, kind=OutboxKind.CALL)
    fake_twilio.fail_next(method="POST", accept=True, drop=True)  # placed; the answer is lost
    fake_twilio.fail_next(method="POST", status=503)  # not placed
    await worker.run_once()
    clock.advance(LATER)
    await worker.run_once()
    items = db.all(OutboxItem)
    assert [item.status for item in items] == [OutboxStatus.SENT, OutboxStatus.SENT]
    assert {item.twilio_sid for item in items} == {call["sid"] for call in fake_twilio.calls}
    assert len(fake_twilio.calls) == 2 and posts(fake_twilio, "Calls") == 3


async def test_later_sms_go_out_while_two_items_share_one_found_message(
    db: TestDatabase,
    sessions: Sessions,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    recruiter, other = make_recruiter(db), make_recruiter(db)
    for key in ("relay:SM1", "relay:SM2"):
        await queue(sessions, recruiter, key, at=T0)
    fake_twilio.fail_next(method="POST", accept=True, drop=True)
    fake_twilio.fail_next(method="POST", status=500)
    await worker.run_once()
    clock.advance(LATER)
    await queue(sessions, other, "relay:SM3", at=clock.now(), body="unrelated")
    await worker.run_once()
    assert [m["body"] for m in sms_to(fake_twilio, other.mobile)] == ["unrelated"]
    assert db.count(OutboxItem, OutboxItem.status != OutboxStatus.SENT) == 0


async def test_a_found_message_another_item_got_meanwhile_is_not_taken_and_spoils_nothing(
    db: TestDatabase,
    sessions: Sessions,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    recruiter, owner, in_doubt, unrelated, made = await one_message_two_relays(
        db, sessions, fake_twilio
    )
    sends = worker.sender.transport.send

    def report_arrives_first(item: Outgoing) -> str | None:
        # The owner's delivery report lands while the batch is out at Twilio.
        change(db, owner, twilio_sid=made["sid"], status=OutboxStatus.DELIVERED)
        return sends(item)

    worker.sender.transport.send = report_arrives_first
    await worker.run_once()
    assert db.one(OutboxItem, OutboxItem.id == unrelated).status is OutboxStatus.SENT
    assert db.one(OutboxItem, OutboxItem.id == in_doubt).status is OutboxStatus.PENDING
    worker.sender.transport.send = sends
    clock.advance(LATER)
    await worker.run_once()
    resent = db.one(OutboxItem, OutboxItem.id == in_doubt)
    assert resent.status is OutboxStatus.SENT and resent.twilio_sid != made["sid"]
    assert len(sms_to(fake_twilio, recruiter.mobile)) == 2 and posts(fake_twilio) == 2


@pytest.mark.postgres_only
async def test_a_sid_a_concurrent_writer_takes_while_the_batch_is_recorded_is_seen_on_a_retry(
    db: TestDatabase,
    sessions: Sessions,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, owner, in_doubt, unrelated, made = await one_message_two_relays(db, sessions, fake_twilio)
    holders, asked = sid_holders, []

    async def report_commits_after_the_check(session: Any, sids: Any) -> dict[str, int]:
        found = await holders(session, sids)
        asked.append(found)
        if len(asked) == 2:  # the look-up asks first, the recording next
            change(db, owner, twilio_sid=made["sid"], status=OutboxStatus.DELIVERED)
        return found

    monkeypatch.setattr("app.outbox.sender.sid_holders", report_commits_after_the_check)
    await worker.run_once()
    assert db.one(OutboxItem, OutboxItem.id == unrelated).status is OutboxStatus.SENT
    assert db.one(OutboxItem, OutboxItem.id == in_doubt).status is OutboxStatus.PENDING
    assert db.one(OutboxItem, OutboxItem.id == owner).twilio_sid == made["sid"]
    assert len(asked) == 3


async def test_a_sid_twilio_gives_to_a_send_is_taken_back_from_an_item_that_adopted_it(
    db: TestDatabase,
    sessions: Sessions,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    recruiter = make_recruiter(db)
    sender = await queue(sessions, recruiter, "relay:SM1", at=T0)
    adopter = await queue(sessions, recruiter, "relay:SM2", at=T0)
    change(db, adopter, attempts=2, status=OutboxStatus.SENT, sent_at=T0)
    sends = worker.sender.transport.send

    def another_worker_adopts_it(item: Outgoing) -> str | None:
        sid = sends(item)
        change(db, adopter, twilio_sid=sid)  # it found the new message and took it for its own
        return sid

    worker.sender.transport.send = another_worker_adopts_it
    await worker.run_once()
    [message] = fake_twilio.messages
    assert db.one(OutboxItem, OutboxItem.id == sender).twilio_sid == message["sid"]
    assert db.one(OutboxItem, OutboxItem.id == adopter).status is OutboxStatus.PENDING
    worker.sender.transport.send = sends
    await worker.run_once()
    resent = db.one(OutboxItem, OutboxItem.id == adopter)
    assert resent.status is OutboxStatus.SENT and resent.twilio_sid != message["sid"]
    assert len(sms_to(fake_twilio, recruiter.mobile)) == 2 and posts(fake_twilio) == 2


async def test_a_delivery_report_takes_its_message_back_from_an_item_that_adopted_it(
    db: TestDatabase,
    sessions: Sessions,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
    webhook: Webhook,
) -> None:
    recruiter = make_recruiter(db)
    owner = await queue(sessions, recruiter, "relay:SM1", at=T0)
    adopter = await queue(sessions, recruiter, "relay:SM2", at=T0)
    made = fake_twilio.add(
        "Messages", to=recruiter.mobile, **{"from": recruiter.line}, body=RELAYED
    )
    change(db, owner, attempts=1, next_attempt_at=T0 + timedelta(hours=1))
    change(db, adopter, attempts=2, status=OutboxStatus.SENT, twilio_sid=made["sid"], sent_at=T0)
    report = {
        "MessageSid": made["sid"],
        "MessageStatus": "delivered",
        "To": recruiter.mobile,
        "From": recruiter.line,
        "AccountSid": "AC" + "f" * 32,
    }
    response = await webhook(f"/twilio/sms/status?outbox={owner}", report)
    assert response.status_code == 204
    delivered = db.one(OutboxItem, OutboxItem.id == owner)
    assert (delivered.status, delivered.twilio_sid) == (OutboxStatus.DELIVERED, made["sid"])
    assert db.one(OutboxItem, OutboxItem.id == adopter).status is OutboxStatus.PENDING
    await worker.run_once()
    sent = db.one(OutboxItem, OutboxItem.id == adopter)
    assert sent.status is OutboxStatus.SENT and sent.twilio_sid not in (None, made["sid"])
    assert len(sms_to(fake_twilio, recruiter.mobile)) == 2 and posts(fake_twilio) == 1


async def test_an_unexpected_fault_on_one_item_loses_no_other_outcome(
    db: TestDatabase,
    sessions: Sessions,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    recruiter, other = make_recruiter(db), make_recruiter(db)
    faulty = await queue(sessions, recruiter, "relay:SM1", at=T0)
    await queue(sessions, other, "relay:SM2", at=T0, body="unrelated")
    sends = worker.sender.transport.send

    def fault_on_the_first(item: Outgoing) -> str | None:
        if item.id == faulty:
            raise ValueError("a bug in one request")
        return sends(item)

    worker.sender.transport.send = fault_on_the_first
    await worker.run_once()
    assert [m["body"] for m in sms_to(fake_twilio, other.mobile)] == ["unrelated"]
    retried = db.one(OutboxItem, OutboxItem.id == faulty)
    assert (retried.status, retried.attempts) == (OutboxStatus.PENDING, 1)
    worker.sender.transport.send = sends
    clock.advance(LATER)
    await worker.run_once()
    assert len(sms_to(fake_twilio, recruiter.mobile)) == 1


async def test_a_failing_pass_over_crashed_workers_items_does_not_starve_the_due_ones(
    db: TestDatabase,
    sessions: Sessions,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    crashed_for, due_for = make_recruiter(db), make_recruiter(db)
    crashed = await queue(sessions, crashed_for, "relay:SM1", at=T0)
    change(db, crashed, status=OutboxStatus.SENDING, attempts=1, claimed_at=T0, claimed_by="dead")
    clock.set(T0 + SENDING_LEASE + timedelta(seconds=1))
    await queue(sessions, due_for, "relay:SM2", at=clock.now(), body="due now")
    record, faults = worker.sender._record, [RuntimeError("the database went away")]

    async def first_record_fails(outcomes: Any) -> Any:
        if faults:
            raise faults.pop()
        return await record(outcomes)

    monkeypatch.setattr(worker.sender, "_record", first_record_fails)
    with pytest.raises(RuntimeError):
        await worker.run_once()  # the crashed worker's item goes first, and fails
    assert [m["body"] for m in sms_to(fake_twilio, due_for.mobile)] == ["due now"]


async def test_a_failing_nudge_pass_does_not_keep_the_outbox_from_being_sent(
    db: TestDatabase,
    sessions: Sessions,
    worker: Worker,
    fake_twilio: FakeTwilio,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recruiter = make_recruiter(db)
    await queue(sessions, recruiter, "relay:SM1", at=T0)

    async def nudge_pass_fails(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("a bad obligation")

    monkeypatch.setattr("app.outbox.worker.queue_due_nudges", nudge_pass_fails)
    with pytest.raises(RuntimeError):
        await worker.run_once()
    assert len(sms_to(fake_twilio, recruiter.mobile)) == 1


async def test_a_found_message_on_a_failed_row_is_that_rows_not_the_nudges(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    worker: Worker,
    clock: ManualClock,
    fake_twilio: FakeTwilio,
) -> None:
    recruiter = await first_nudge(db, sessions, settings, clock)
    fake_twilio.fail_next(method="POST", status=500)
    await worker.run_once()
    [nudge] = db.all(OutboxItem)
    earlier = await queue(sessions, recruiter, "relay:SM0", at=T0, body=nudge.body)
    made = fake_twilio.add(
        "Messages", to=recruiter.mobile, **{"from": recruiter.line}, body=nudge.body
    )
    change(db, earlier, status=OutboxStatus.FAILED, twilio_sid=made["sid"], attempts=1)
    clock.advance(LATER)
    await worker.run_once()
    sent = db.one(OutboxItem, OutboxItem.id == nudge.id)
    assert sent.status is OutboxStatus.SENT and sent.twilio_sid != made["sid"]
