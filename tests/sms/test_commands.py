"""SMS commands from a recruiter's mobile, through signed /twilio/sms/incoming webhooks: each
command, forgiving parsing, replies that fit, refusals that say nothing, and redeliveries."""

import asyncio
from datetime import timedelta

import httpx
import pytest

from app.clock import ManualClock
from app.models import (
    CloseReason,
    InboundMessage,
    Obligation,
    ObligationStatus,
    OutboxItem,
    OutboxKind,
    Recruiter,
)
from app.simulator.exchange import RecruiterDoes
from app.simulator.recruiter import RecruiterPhone
from app.sms.commands import HELP
from app.sms.segments import segments
from app.twilio import messaging
from tests.conftest import Webhook
from tests.support.databases import TestDatabase
from tests.support.factories import T0, make_obligation, make_recruiter
from tests.support.loop import fresh, timeline

HOUR = timedelta(hours=1)


async def reply_to(
    phone: RecruiterPhone, recruiter: Recruiter, body: str, message_sid: str | None = None
) -> str:
    """The one reply the recruiter gets to `body`."""
    texted = await phone.text(
        sender=recruiter.mobile, line=recruiter.line, body=body, message_sid=message_sid
    )
    [reply] = texted.replies
    return reply


def owing(
    db: TestDatabase, recruiter: Recruiter, *callers: str | None, **fields: object
) -> list[Obligation]:
    """Open obligations of `recruiter` for `callers`, an hour apart, oldest first."""
    obligations = [
        make_obligation(
            recruiter, caller=caller, opened_at=T0 - HOUR * (len(callers) - n), **fields
        )
        for n, caller in enumerate(callers)
    ]
    db.add(*obligations)
    return obligations


@pytest.mark.parametrize(
    "body",
    ["DONE {id}", "done {id}", "  Done   #{id} ", "#done #{id}", "DONE{id}.", "Done {id} thanks!"],
)
async def test_done_closes_the_obligation_whatever_the_spelling(
    body: str, phone: RecruiterPhone, recruiter: Recruiter, owed: Obligation, db: TestDatabase
) -> None:
    reply = await reply_to(phone, recruiter, body.format(id=owed.id))

    assert reply == f"Closed #{owed.id} (+44 7700 900123). Thank you!"
    closed = fresh(db, owed)
    assert (closed.status, closed.close_reason) == (ObligationStatus.CLOSED, CloseReason.RECRUITER)
    assert timeline(db, owed)[-1] == ("closed", f"recruiter:{recruiter.id}")


async def test_done_on_a_closed_obligation_says_so(
    phone: RecruiterPhone, recruiter: Recruiter, owed: Obligation
) -> None:
    await reply_to(phone, recruiter, f"DONE {owed.id}")

    assert await reply_to(phone, recruiter, f"DONE {owed.id}") == f"#{owed.id} was closed already."


async def test_done_without_an_id_closes_the_only_open_one(
    phone: RecruiterPhone, recruiter: Recruiter, owed: Obligation, db: TestDatabase
) -> None:
    reply = await reply_to(phone, recruiter, "done")

    assert reply.startswith(f"Closed #{owed.id}")
    assert fresh(db, owed).close_reason is CloseReason.RECRUITER


async def test_done_without_an_id_asks_which_when_several_are_open(
    phone: RecruiterPhone, recruiter: Recruiter, db: TestDatabase
) -> None:
    first, second = owing(db, recruiter, "+447700900001", "+447700900002")

    reply = await reply_to(phone, recruiter, "DONE")

    assert reply.startswith("Which one? Reply DONE and its number:")
    assert f"#{first.id} +44 7700 900001" in reply and f"#{second.id} +44 7700 900002" in reply
    assert db.count(Obligation, Obligation.status == ObligationStatus.OPEN) == 2


async def test_done_without_an_id_and_nothing_open(
    phone: RecruiterPhone, recruiter: Recruiter
) -> None:
    assert await reply_to(phone, recruiter, "DONE") == "You have no open callbacks."


@pytest.mark.parametrize(
    ("body", "held"),
    [
        ("SNOOZE {id}", HOUR),
        ("snooze #{id} 2h", 2 * HOUR),
        ("Snooze {id} 1 hour 30 min", HOUR * 1.5),
        ("SNOOZE {id} for 1d", 24 * HOUR),
    ],
)
async def test_snooze_holds_the_nudges(
    body: str,
    held: timedelta,
    phone: RecruiterPhone,
    recruiter: Recruiter,
    owed: Obligation,
    db: TestDatabase,
    clock: ManualClock,
) -> None:
    reply = await reply_to(phone, recruiter, body.format(id=owed.id))

    until = clock.now() + held
    snoozed = fresh(db, owed)
    assert (snoozed.snoozed_until, snoozed.next_reminder_at) == (until, until)
    assert reply == f"Snoozed #{owed.id} until {until:%a %d %b %H:%M}."
    assert timeline(db, owed)[-1] == ("snoozed", f"recruiter:{recruiter.id}")


async def test_snooze_tells_the_time_in_the_recruiters_zone(
    phone: RecruiterPhone, db: TestDatabase
) -> None:
    recruiter = make_recruiter(db, timezone="America/New_York")
    [obligation] = owing(db, recruiter, "+447700900001")

    reply = await reply_to(phone, recruiter, f"SNOOZE {obligation.id} 2h")

    assert reply == f"Snoozed #{obligation.id} until Mon 05 Jan 07:00."  # 12:00 UTC


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("SNOOZE", "Write SNOOZE and the number, e.g. SNOOZE 12 2h."),
        ("SNOOZE {id} soon", "Write how long, e.g. SNOOZE {id} 30m, 2h or 1d."),
        ("SNOOZE {id} 0m", "Write how long, e.g. SNOOZE {id} 30m, 2h or 1d."),
        ("SNOOZE {id} 400d", "Snooze for 365 days at most."),
    ],
)
async def test_a_snooze_that_cannot_be_read_explains_and_changes_nothing(
    body: str,
    problem: str,
    phone: RecruiterPhone,
    recruiter: Recruiter,
    owed: Obligation,
    db: TestDatabase,
) -> None:
    reply = await reply_to(phone, recruiter, body.format(id=owed.id))

    assert reply == problem.format(id=owed.id) + " Reply HELP for the commands."
    assert fresh(db, owed).snoozed_until is None


async def test_call_queues_a_click_to_call_that_runs_to_a_close(
    phone: RecruiterPhone, recruiter: Recruiter, owed: Obligation, db: TestDatabase
) -> None:
    reply = await reply_to(phone, recruiter, f"call #{owed.id}")

    assert reply == "Calling you now: answer and press 1 to be put through to +44 7700 900123."
    item = db.one(OutboxItem, OutboxItem.kind == OutboxKind.CALL)
    assert (item.to_number, item.from_number, item.call_target) == (
        recruiter.mobile,
        recruiter.line,
        owed.caller,
    )
    assert timeline(db, owed)[-1] == ("call_requested", f"recruiter:{recruiter.id}")
    placed = phone.placed_for(outbox_id=item.id, mobile=item.to_number, line=recruiter.line)
    await phone.take_placed_call(placed, recruiter=RecruiterDoes.ACCEPTS)
    assert fresh(db, owed).close_reason is CloseReason.CALLBACK


async def test_call_twice_in_a_row_is_one_call(
    phone: RecruiterPhone, recruiter: Recruiter, owed: Obligation, db: TestDatabase
) -> None:
    await reply_to(phone, recruiter, f"CALL {owed.id}")
    reply = await reply_to(phone, recruiter, f"CALL {owed.id}")

    assert reply == f"Already calling you about #{owed.id}: answer and press 1."
    assert db.count(OutboxItem, OutboxItem.kind == OutboxKind.CALL) == 1


async def test_call_for_a_withheld_caller_explains_there_is_nobody_to_call(
    phone: RecruiterPhone, recruiter: Recruiter, db: TestDatabase
) -> None:
    [withheld] = owing(db, recruiter, None)

    reply = await reply_to(phone, recruiter, f"CALL {withheld.id}")

    assert "withheld" in reply and db.count(OutboxItem) == 0


async def test_list_shows_the_open_ones_oldest_first(
    phone: RecruiterPhone, recruiter: Recruiter, db: TestDatabase
) -> None:
    older, newer = owing(db, recruiter, "+447700900001", "+447700900002", missed_calls=3)

    reply = await reply_to(phone, recruiter, "list")

    assert reply == (
        "2 open, oldest first:\n"
        f"#{older.id} +44 7700 900001, 2h, 3 calls\n"
        f"#{newer.id} +44 7700 900002, 1h, 3 calls"
    )


async def test_a_long_list_fits_one_sms_and_says_how_many_more(
    phone: RecruiterPhone, recruiter: Recruiter, db: TestDatabase
) -> None:
    owing(db, recruiter, *[f"+4477009{n:05d}" for n in range(40)])

    reply = await reply_to(phone, recruiter, "LIST")

    assert segments(reply) == 1
    shown = reply.count("\n#") + reply.startswith("#")
    assert reply.startswith("40 open") and reply.endswith(f"+{40 - shown} more")
    assert shown >= 3


async def test_list_with_nothing_open(phone: RecruiterPhone, recruiter: Recruiter) -> None:
    assert await reply_to(phone, recruiter, "LIST") == "You have no open callbacks."


@pytest.mark.parametrize("body", ["HELP", "help", "?", " Help? ", "info"])
async def test_help_lists_the_commands_in_one_sms(
    body: str, phone: RecruiterPhone, recruiter: Recruiter
) -> None:
    reply = await reply_to(phone, recruiter, body)

    assert reply == HELP and segments(reply) == 1


async def test_an_unknown_command_gets_a_helpful_answer(
    phone: RecruiterPhone, recruiter: Recruiter, owed: Obligation, db: TestDatabase
) -> None:
    reply = await reply_to(phone, recruiter, "Thanks, will do")

    assert reply == 'Sorry, "Thanks, will do" is not a command. Reply HELP for the commands.'
    assert fresh(db, owed).status is ObligationStatus.OPEN


@pytest.mark.parametrize("verb", ["DONE", "SNOOZE", "CALL"])
async def test_another_recruiters_obligation_is_refused_like_an_unknown_one(
    verb: str, phone: RecruiterPhone, recruiter: Recruiter, db: TestDatabase
) -> None:
    colleague = make_recruiter(db)
    [theirs] = owing(db, colleague, "+447700900001")
    unknown = theirs.id + 1000

    refused = await reply_to(phone, recruiter, f"{verb} {theirs.id}")
    unknown_reply = await reply_to(phone, recruiter, f"{verb} {unknown}")

    assert refused == f"#{theirs.id} is not one of your callbacks. Reply LIST to see yours."
    assert refused.replace(str(theirs.id), "N") == unknown_reply.replace(str(unknown), "N")
    untouched = fresh(db, theirs)
    assert (untouched.status, untouched.snoozed_until) == (ObligationStatus.OPEN, None)
    assert db.count(OutboxItem) == 0


async def test_an_id_no_obligation_could_have_is_refused(
    phone: RecruiterPhone, recruiter: Recruiter
) -> None:
    reply = await reply_to(phone, recruiter, "DONE " + "9" * 40)

    assert reply.endswith("is not one of your callbacks. Reply LIST to see yours.")


async def test_a_redelivered_message_gets_the_same_reply_and_acts_once(
    phone: RecruiterPhone, recruiter: Recruiter, owed: Obligation, db: TestDatabase
) -> None:
    first = await reply_to(phone, recruiter, f"DONE {owed.id}", message_sid="SM" + "1" * 32)
    again = await reply_to(phone, recruiter, f"DONE {owed.id}", message_sid="SM" + "1" * 32)

    assert first == again == f"Closed #{owed.id} (+44 7700 900123). Thank you!"
    assert [kind for kind, _ in timeline(db, owed)].count("closed") == 1
    assert db.count(InboundMessage) == 1


async def test_one_message_delivered_three_times_at_once_queues_one_call(
    phone: RecruiterPhone, recruiter: Recruiter, owed: Obligation, db: TestDatabase
) -> None:
    sid = "SM" + "2" * 32
    replies = await asyncio.gather(
        *[reply_to(phone, recruiter, f"CALL {owed.id}", message_sid=sid) for _ in range(3)]
    )

    assert len(set(replies)) == 1 and replies[0].startswith("Calling you now")
    assert db.count(OutboxItem, OutboxItem.kind == OutboxKind.CALL) == 1
    assert db.one(InboundMessage).reply == replies[0]


async def test_stop_flags_the_recruiter_and_start_clears_the_flags(
    phone: RecruiterPhone, recruiter: Recruiter, db: TestDatabase
) -> None:
    [obligation] = owing(db, recruiter, "+447700900001", sms_error_code=21610)

    stopped = await phone.text(sender=recruiter.mobile, line=recruiter.line, body="STOP")
    flagged = db.one(Recruiter, Recruiter.id == recruiter.id)
    assert stopped.replies == [] and flagged.sms_error_code == 21610
    assert flagged.sms_blocked_at is not None

    reply = await reply_to(phone, recruiter, "start")

    cleared = db.one(Recruiter, Recruiter.id == recruiter.id)
    assert (cleared.sms_blocked_at, cleared.sms_error_code) == (None, None)
    assert fresh(db, obligation).sms_error_code is None
    assert reply.startswith("Reminders by SMS are on again")


async def test_an_unsigned_sms_is_refused_and_does_nothing(
    client: httpx.AsyncClient, recruiter: Recruiter, owed: Obligation, db: TestDatabase
) -> None:
    form = {"MessageSid": "SM1", "From": recruiter.mobile, "To": recruiter.line, "Body": "DONE"}
    response = await client.post(messaging.INCOMING, data=form)

    assert response.status_code == 403
    assert db.count(InboundMessage) == 0 and fresh(db, owed).status is ObligationStatus.OPEN


async def test_a_signed_sms_without_a_message_sid_is_a_422_and_does_nothing(
    webhook: Webhook, recruiter: Recruiter, owed: Obligation, db: TestDatabase
) -> None:
    form = {"From": recruiter.mobile, "To": recruiter.line, "Body": f"DONE {owed.id}"}
    response = await webhook(messaging.INCOMING, form)

    assert response.status_code == 422 and "MessageSid" in response.json()["detail"]
    assert db.count(InboundMessage) == 0 and fresh(db, owed).status is ObligationStatus.OPEN
