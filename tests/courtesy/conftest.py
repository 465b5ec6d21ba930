"""Fixtures for caller courtesy: text-backs on (the tests run with Twilio credentials, where
they default to off), Twilio and the recruiter's phone played by the simulator, a worker."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.models import Obligation, ObligationEvent, OutboxItem, Recruiter
from app.simulator.exchange import CallScript
from app.simulator.twilio import TwilioSimulator
from tests.support.databases import TestDatabase
from tests.support.factories import make_recruiter
from tests.support.fake_twilio import FakeTwilio
from tests.support.loop_fixtures import dates_follow_the_clock  # noqa: F401 - a fixture

CALLER = "+447700900123"
API_TOKEN = "courtesy-tests-token-long-enough"
# Monday to Friday, 09:00-17:30 (the example hours).
OFFICE = {day: [["09:00", "17:30"]] for day in ("mon", "tue", "wed", "thu", "fri")}


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {
        "default_region": "GB",
        "api_tokens": API_TOKEN,
        "caller_text": True,
        "team_name": "Acme Talent",
    }


@pytest.fixture
def recruiter(db: TestDatabase) -> Recruiter:
    return make_recruiter(db, name="Alice Example")


@pytest.fixture
async def api(client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    client.headers["Authorization"] = f"Bearer {API_TOKEN}"
    yield client


async def missed(
    twilio: TwilioSimulator, recruiter: Recruiter, caller: str | None = CALLER
) -> None:
    """A call from `caller` the recruiter does not take (no voicemail), through the webhooks."""
    await twilio.call(CallScript(caller=caller or "anonymous", line=recruiter.line, message=None))


def texts_to(fake: FakeTwilio, number: str) -> list[str]:
    """The bodies of the SMS the fake Twilio holds for `number`, oldest first."""
    return [m["body"] for m in fake.messages if m["to"] == number]


def only_obligation(db: TestDatabase) -> Obligation:
    obligation: Obligation = db.one(Obligation)
    return obligation


def kinds(db: TestDatabase, obligation: Obligation) -> list[str]:
    events = db.all(
        ObligationEvent, ObligationEvent.obligation_id == obligation.id, order_by=ObligationEvent.id
    )
    return [event.kind for event in events]


def caller_items(db: TestDatabase) -> list[OutboxItem]:
    return list(db.all(OutboxItem, OutboxItem.to_number == CALLER, order_by=OutboxItem.id))
