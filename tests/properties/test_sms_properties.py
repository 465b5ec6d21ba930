"""Any SMS a recruiter's mobile may send to a line, signed as Twilio signs it, is answered
with TwiML that parses, holds at most one `<Message>`, and never a 5xx (both databases)."""

import itertools

import httpx
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from app.models import Obligation
from app.twilio.messaging import INCOMING
from tests.drills.webhooks import UNSHOWABLE, Ids, assert_twiml, seed
from tests.support.databases import TestDatabase
from tests.support.signer import TwilioSigner

_sids = itertools.count(1)
# Twilio never sends a NUL (it is a 422, as on every route); anything else may come.
characters = st.characters(codec="utf-8", exclude_characters="\x00")
verbs = st.sampled_from(["DONE", "done", "#Done", "SNOOZE", "snooze", "CALL", "LIST", "HELP", "?"])
obligation_ids = st.one_of(
    st.integers(-3, 5).map(str),
    st.text(alphabet="0123456789١１", max_size=25),
)
commands = st.tuples(
    verbs,
    st.sampled_from(["", " ", " #", "\u3000", "\n"]),
    obligation_ids,
    st.sampled_from(["", " ", "; ", " '; --", " 2h", " 1 hour 30 min", " 9999d"]),
    st.text(characters, max_size=30),
).map("".join)
bodies = st.one_of(
    commands,
    st.text(characters, max_size=200),
    st.text(characters, min_size=1, max_size=8).map(lambda part: (part * 1_600)[:1_600]),
)


@pytest.fixture
def ids(db: TestDatabase) -> Ids:
    """Rows the commands act on, seeded once for all of a test's examples."""
    return seed(db)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(bodies)
@example("DONE 1; DROP TABLE obligations")
@example("SNOOZE 1 '; --")
@example("\u202eCALL 1 \U0001f4a5")
async def test_any_sms_from_a_recruiter_gets_twiml_and_never_a_5xx(
    client: httpx.AsyncClient, signer: TwilioSigner, db: TestDatabase, ids: Ids, body: str
) -> None:
    params = {
        "AccountSid": "AC" + "f" * 32,
        "MessageSid": f"SM{next(_sids):032d}",
        "From": ids.mobile,
        "To": ids.line,
        "Body": body,
    }
    response = await client.post(INCOMING, data=params, headers=signer.headers(INCOMING, params))

    assert response.status_code == 200, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("text/xml")
    document = assert_twiml(response)
    replies = [message.text or "" for message in document]
    assert [message.tag for message in document] == ["Message"] * len(replies) and len(replies) <= 1
    assert all(reply and not UNSHOWABLE & set(reply) for reply in replies), replies
    event("replied" if replies else "no reply")
    assert db.count(Obligation) == 1  # nothing dropped, nothing opened by a text
