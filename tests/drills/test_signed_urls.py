"""Ids in the signed URLs the service hands Twilio (`?outbox=`, `?recruiter=`,
`?obligation=`), and what the service itself puts into TwiML, on both databases: an id
no row could have is a 422 that writes nothing; a stored text never breaks the TwiML."""

import itertools
import xml.etree.ElementTree as ET
from urllib.parse import quote

import pytest
from sqlalchemy import update

from app.models import Obligation
from tests.drills.drill import Drill, Tables, refused, survives
from tests.drills.webhooks import EXAMPLES, assert_twiml
from tests.support.databases import TestDatabase

# Ids the service never puts in a URL it hands Twilio (it writes plain ASCII digits).
IMPOSSIBLE_IDS = [
    "",
    "abc",
    "-1",
    "0",
    "1.5",
    "9" * 30,
    "9" * 5_000,  # past int()'s 4,300 digits
    "1e3",
    "0x10",
    "+1",
    " 1",
    "1_0",
    "١",  # Arabic-Indic one: Python's int() reads it
    "１",  # fullwidth one
    "1\n",
]


@pytest.mark.parametrize("route", [path for path, e in EXAMPLES.items() if e.query_ids])
async def test_an_impossible_id_in_the_signed_query_is_422_naming_it_and_writes_nothing(
    drill: Drill, tables: Tables
) -> None:
    params = drill.fresh()
    base, _, query = drill.path.partition("?")
    for name, value in itertools.product(drill.example.query_ids, IMPOSSIBLE_IDS):
        path = f"{base}?{_with(query, name, value)}"
        await refused(
            drill,
            tables,
            422,
            "validation_error",
            lambda p=path: drill.post(params, path=p),
            naming=name,
        )
    if drill.example.query_optional:  # a report from a URL that names nothing
        response = await survives(drill, tables, drill.fresh(), path=base)
        assert 200 <= response.status_code < 300, response.text[:300]
    else:
        bare = drill.fresh()
        await refused(drill, tables, 422, "validation_error", lambda: drill.post(bare, path=base))


def _with(query: str, name: str, value: str) -> str:
    """`query` with `name` set to `value`, percent-encoded as a client would send it."""
    pairs = [pair for pair in query.split("&") if not pair.startswith(f"{name}=")]
    return "&".join([*pairs, f"{name}={quote(value, safe='')}"])


@pytest.mark.parametrize("route", ["/twilio/voice/dial"])
async def test_a_dial_action_naming_no_recruiter_is_422_and_writes_nothing(
    drill: Drill, tables: Tables
) -> None:
    path = "/twilio/voice/dial?recruiter=99999"
    params = drill.fresh()
    await refused(
        drill,
        tables,
        422,
        "validation_error",
        lambda: drill.post(params, path=path),
        naming="recruiter",
    )


@pytest.mark.parametrize("route", ["/twilio/sms/status"])
async def test_a_delivery_report_naming_an_overlong_sid_is_422(
    drill: Drill, tables: Tables
) -> None:
    # The item is still `sent`, so this report would be applied but for its SID.
    overlong = drill.fresh(MessageSid="SM" + "9" * 100)
    await refused(
        drill,
        tables,
        422,
        "validation_error",
        lambda: drill.post(overlong),
        naming="MessageSid",
    )


@pytest.mark.parametrize("route", ["/twilio/voice/connect", "/twilio/voice/connect/choice"])
async def test_a_callers_name_that_xml_cannot_hold_still_gives_twiml_that_parses(
    drill: Drill, tables: Tables, db: TestDatabase
) -> None:
    # As a carrier's CNAM lookup sent it on the missed call: the click-to-call speaks it.
    with db.engine.begin() as connection:
        connection.execute(update(Obligation).values(caller_name="\x1b[2J\x07Ada\ufffe Lovelace"))
    response = await survives(drill, tables, drill.fresh(Digits="1"))
    assert "Ada Lovelace" in ET.tostring(assert_twiml(response), encoding="unicode")
