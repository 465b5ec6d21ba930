"""An SMS to a line from anyone but a recruiter: relayed to the line's recruiter, logged, no
reply, no obligation touched; and sent once however often Twilio delivers it."""

import pytest

from app.models import InboundMessage, Obligation, OutboxItem, OutboxKind, Recruiter
from app.outbox.worker import Worker
from app.simulator.recruiter import RecruiterPhone
from app.sms.inbound import relay_text
from tests.support.databases import TestDatabase
from tests.support.factories import make_recruiter
from tests.support.fake_twilio import FakeTwilio
from tests.support.loop import CALLER, fresh

STRANGER = "+447700900456"


async def test_a_strangers_sms_is_relayed_to_the_recruiter_and_changes_nothing(
    phone: RecruiterPhone,
    recruiter: Recruiter,
    owed: Obligation,
    db: TestDatabase,
    worker: Worker,
    fake_twilio: FakeTwilio,
) -> None:
    texted = await phone.text(sender=STRANGER, line=recruiter.line, body="DONE 1, call me?")

    assert texted.replies == [] and texted.exchange.body.endswith("<Response />")
    logged = db.one(InboundMessage)
    assert (logged.kind, logged.recruiter_id, logged.body) == (
        "relayed",
        recruiter.id,
        "DONE 1, call me?",
    )
    before = fresh(db, owed)
    assert (before.status, before.missed_calls, before.next_reminder_at) == (
        owed.status,
        owed.missed_calls,
        owed.next_reminder_at,
    )
    await worker.run_once()
    relayed = [m for m in fake_twilio.messages if m["to"] == recruiter.mobile]
    assert [(m["from"], m["body"]) for m in relayed] == [
        (recruiter.line, "SMS from +44 7700 900456: DONE 1, call me?")
    ]


async def test_the_caller_texting_back_is_relayed_too(
    phone: RecruiterPhone, recruiter: Recruiter, owed: Obligation, db: TestDatabase
) -> None:
    await phone.text(sender=CALLER, line=recruiter.line, body="Ring me after 5")

    assert db.one(OutboxItem).body == "SMS from +44 7700 900123: Ring me after 5"
    assert fresh(db, owed).status is owed.status


async def test_a_redelivered_strangers_sms_is_relayed_once(
    phone: RecruiterPhone, recruiter: Recruiter, db: TestDatabase
) -> None:
    for _ in range(2):
        await phone.text(
            sender=STRANGER, line=recruiter.line, body="Hi", message_sid="SM" + "4" * 32
        )

    assert db.count(OutboxItem, OutboxItem.kind == OutboxKind.SMS) == 1
    assert db.count(InboundMessage) == 1


async def test_an_sms_to_a_line_nobody_has_is_logged_and_goes_nowhere(
    phone: RecruiterPhone, db: TestDatabase
) -> None:
    texted = await phone.text(sender=STRANGER, line="+15005550199", body="Hello?")

    assert texted.replies == []
    assert (db.one(InboundMessage).kind, db.count(OutboxItem)) == ("unrouted", 0)


async def test_a_recruiter_texting_a_colleagues_line_gives_a_command_not_a_relay(
    phone: RecruiterPhone, recruiter: Recruiter, owed: Obligation, db: TestDatabase
) -> None:
    colleague = make_recruiter(db)
    texted = await phone.text(sender=recruiter.mobile, line=colleague.line, body=f"DONE {owed.id}")

    assert texted.replies[0].startswith(f"Closed #{owed.id}")
    assert db.count(OutboxItem) == 0


@pytest.mark.parametrize(
    ("sender", "body", "relayed"),
    [
        ("+14155550100", "Hi", "SMS from +1 415-555-0100: Hi"),
        ("ACME", "Your code", "SMS from ACME: Your code"),
        ("+14155550100", "   ", "SMS from +1 415-555-0100: (no text)"),
    ],
)
def test_the_relayed_text_names_the_sender_for_people(sender: str, body: str, relayed: str) -> None:
    assert relay_text(sender, body) == relayed


def test_a_relayed_text_is_cut_to_twilios_longest_message() -> None:
    assert len(relay_text("+14155550100", "x" * 5000)) == 1600
