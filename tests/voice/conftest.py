"""Fixtures of the voice tests: Twilio played by the simulator, a recruiter with a line."""

import httpx
import pytest

from app.config import Settings
from app.models import Recruiter
from app.simulator import TwilioSimulator
from tests.support.databases import TestDatabase
from tests.support.factories import make_recruiter

CALLER = "+447700900123"


def simulator(http: httpx.AsyncClient, settings: Settings) -> TwilioSimulator:
    return TwilioSimulator(
        http,
        auth_token=settings.auth_token,
        public_base_url=settings.public_base_url,
        account_sid=settings.account_sid,
    )


@pytest.fixture
def twilio(client: httpx.AsyncClient, settings: Settings) -> TwilioSimulator:
    """Twilio, calling the app in-process."""
    return simulator(client, settings)


@pytest.fixture
def recruiter(db: TestDatabase) -> Recruiter:
    return make_recruiter(db)
