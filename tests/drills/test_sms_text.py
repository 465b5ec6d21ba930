"""SQL-looking and unicode text in SMS to a line, on both databases. From a recruiter's
mobile it is read as a command (words after the id are ignored) or refused, always in a
TwiML reply that parses; from anyone else it is relayed, never carried out. Either way
only the rows meant to change do: every table is compared before and after."""

import itertools
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection

from app.models import (
    CloseReason,
    InboundMessage,
    Obligation,
    ObligationStatus,
    OutboxItem,
    Recruiter,
)
from app.sms.inbound import relay_text
from app.twilio.messaging import INCOMING
from app.twilio.twiml import xml_safe
from tests.drills.webhooks import CALLER, UNSHOWABLE, Ids, assert_twiml, snapshot
from tests.support.databases import TestDatabase
from tests.support.factories import T0, make_obligation
from tests.support.signer import TwilioSigner

STRANGER = "+447700900999"
LOG = "inbound_messages"
CLOSED = {LOG, "obligations", "obligation_events"}
CALLED = {LOG, "outbox", "outbox_obligations", "obligation_events"}
_sids = itertools.count(1)

# (body, the tables it changes, the start of the reply); `{id}` is the first obligation's id.
FROM_THE_RECRUITER = [
    ("DONE {id}; DROP TABLE obligations", {LOG}, "Write DONE and the number"),
    ("DONE {id} '; DROP TABLE obligations; --", CLOSED, "Closed #{id}"),
    ("done #{id} 👍", CLOSED, "Closed #{id}"),
    ("DONE {id} " + "x" * 1_590, CLOSED, "Closed #{id}"),
    ("DONE 1 OR 1=1", {LOG}, "Write DONE and the number"),
    ("DONE " + "9" * 23, {LOG}, "That number is not one of your callbacks"),
    ("SNOOZE {id} '; --", {LOG}, "Write how long, e.g. SNOOZE {id} 30m"),
    ("SNOOZE " + "9" * 23 + " '; --", {LOG}, "Write how long, e.g. SNOOZE 12 30m"),
    ("SNOOZE {id} 2h; DELETE FROM obligation_events", {LOG}, "Write how long"),
    ("SNOOZE {id} 1 OR 1=1", {LOG}, "Write how long"),
    ("CALL {id} OR 1=1", {LOG}, "Write CALL and the number"),
    ("CALL {id} -- Robert'); DROP TABLE calls;", CALLED, "Calling you now"),
    ("HELP; DROP TABLE recruiters", {LOG}, "Callpledge: DONE 12 closes #12"),
    ("LIST' UNION SELECT token_hash FROM api_tokens --", {LOG}, "2 open, oldest first"),
    ("\u202eDONE {id}", {LOG}, 'Sorry, "DONE {id}" is not a command'),
    ("\x1b[2J\x07DONE {id}", {LOG}, 'Sorry, "[2JDONE {id}" is not a command'),
    ("\uffffDONE {id}\ufffe", {LOG}, 'Sorry, "DONE {id}" is not a command'),
    ("تم {id} شكرا", {LOG}, 'Sorry, "تم {id} شكرا" is not a command'),
    ("ＤＯＮＥ　{id}", {LOG}, 'Sorry, "ＤＯＮＥ {id}" is not a command'),
    ("💥" * 1_600, {LOG}, 'Sorry, "' + "💥" * 21 + '..." is not a command'),
    ("a" * 1_600, {LOG}, 'Sorry, "' + "a" * 21 + '..." is not a command'),
    ("<Response><Dial>+15005550006</Dial></Response>", {LOG}, 'Sorry, "<Response><Dial>'),
    ("   ", {LOG}, "That message was empty"),
]
FROM_ANYONE_ELSE = [
    "DONE {id}",
    "DONE {id} '; DROP TABLE obligations; --",
    "SNOOZE {id} '; --",
    "CALL {id}",
    "LIST",
    "🙏 Ring me back? 📞",
    "\u202eDONE {id}",
    "مرحبا، أنا أتصل بخصوص الوظيفة {id}",
    "<Response><Dial>+15005550006</Dial></Response>",
    "Robert'); DELETE FROM calls; -- " * 50,
    "ß" * 1_600,
]

Rows = dict[str, list[tuple[Any, ...]]]


class Line:
    """SMS to the drill recruiter's line, and what every table held before and after."""

    def __init__(
        self, client: httpx.AsyncClient, signer: TwilioSigner, ids: Ids, connection: Connection
    ) -> None:
        self.client, self.signer, self.ids, self.connection = client, signer, ids, connection

    async def text(self, sender: str, body: str) -> tuple[httpx.Response, Rows, Rows, str]:
        """SMS `body` from `sender`: the response, the rows before and after, its MessageSid."""
        sid = f"SM{next(_sids):032d}"
        params = {
            "AccountSid": "AC" + "f" * 32,
            "MessageSid": sid,
            "SmsStatus": "received",
            "From": sender,
            "To": self.ids.line,
            "Body": body,
            "NumMedia": "0",
        }
        before = snapshot(self.connection)
        response = await self.client.post(
            INCOMING, data=params, headers=self.signer.headers(INCOMING, params)
        )
        return response, before, snapshot(self.connection), sid


@pytest.fixture
def line(
    client: httpx.AsyncClient, signer: TwilioSigner, db: TestDatabase, ids: Ids
) -> Iterator[Line]:
    """The drill's rows, and a second open obligation of the recruiter's, a minute younger."""
    recruiter = db.one(Recruiter)
    db.add(make_obligation(recruiter, caller="+447700900555", opened_at=T0 + timedelta(minutes=1)))
    with db.engine.connect() as connection:
        yield Line(client, signer, ids, connection)


def changed(before: Rows, after: Rows) -> set[str]:
    """The tables whose rows differ."""
    return {name for name in before if before[name] != after[name]}


def messages(response: httpx.Response) -> list[str]:
    """The texts of the TwiML reply's `<Message>`s; it must parse and hold nothing else."""
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("text/xml")
    document = assert_twiml(response)
    assert {element.tag for element in document.iter()} <= {"Response", "Message"}
    return [message.text or "" for message in document]


@pytest.mark.parametrize(("template", "tables", "reply"), FROM_THE_RECRUITER)
async def test_a_recruiters_text_is_a_command_or_refused_in_a_sane_reply(
    line: Line, db: TestDatabase, template: str, tables: set[str], reply: str
) -> None:
    body = template.replace("{id}", str(line.ids.obligation))
    response, before, after, sid = await line.text(line.ids.mobile, body)

    [answer] = messages(response)
    assert answer.startswith(reply.replace("{id}", str(line.ids.obligation))), answer
    assert not UNSHOWABLE & set(answer) and len(answer) <= 200, answer
    assert changed(before, after) == tables
    logged = db.one(InboundMessage, InboundMessage.message_sid == sid)
    assert (logged.body, logged.recruiter_id) == (body, line.ids.recruiter)
    assert xml_safe(logged.reply or "") == answer  # kept as given, made fit for XML when sent
    other = db.one(Obligation, Obligation.id != line.ids.obligation)
    assert (other.status, other.snoozed_until) == (ObligationStatus.OPEN, None)
    if tables == CLOSED:
        closed = db.one(Obligation, Obligation.id == line.ids.obligation)
        assert (closed.status, closed.close_reason) == (
            ObligationStatus.CLOSED,
            CloseReason.RECRUITER,
        )


@pytest.mark.parametrize("sender", [STRANGER, CALLER])
@pytest.mark.parametrize("template", FROM_ANYONE_ELSE)
async def test_anyone_elses_text_is_relayed_and_never_carried_out(
    line: Line, db: TestDatabase, sender: str, template: str
) -> None:
    body = template.replace("{id}", str(line.ids.obligation))
    response, before, after, sid = await line.text(sender, body)

    assert messages(response) == []
    # The caller, who has an open obligation, gets their text on its timeline (issue 13).
    timeline = {"obligation_events"} if sender == CALLER else set()
    assert changed(before, after) == {LOG, "outbox"} | timeline
    logged = db.one(InboundMessage, InboundMessage.message_sid == sid)
    assert (logged.kind, logged.body, logged.reply) == ("relayed", body, None)
    relayed = db.one(OutboxItem, OutboxItem.purpose == "relay")
    assert (relayed.to_number, relayed.from_number) == (line.ids.mobile, line.ids.line)
    assert relayed.body == relay_text(sender, body) and len(relayed.body or "") <= 1_600
    assert (relayed.body or "").startswith(f"SMS from +44 7700 900{sender[-3:]}: ")
