"""Fixtures for event webhooks: a real receiver on loopback, a subscription to it, and the
worker's webhook loop on the test's database and clock."""

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest

from app.clock import ManualClock
from app.models import Recruiter, WebhookDelivery
from app.runtime import Runtime
from app.webhooks.loop import WebhookLoop
from tests.support.databases import TestDatabase
from tests.support.factories import make_recruiter
from tests.support.receiver import Receiver

API_TOKEN = "webhook-tests-token-of-enough-length"
Subscribe = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"default_region": "GB", "api_tokens": API_TOKEN}


@pytest.fixture
def receiver(clock: ManualClock) -> Iterator[Receiver]:
    """A receiver that checks signatures against the test's clock."""
    receiver = Receiver(now=lambda: clock.now().timestamp()).start()
    yield receiver
    receiver.stop()


@pytest.fixture
async def api(client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    client.headers["Authorization"] = f"Bearer {API_TOKEN}"
    yield client


@pytest.fixture
def subscribe(api: httpx.AsyncClient, receiver: Receiver) -> Subscribe:
    """Subscribe the receiver (to every event unless told) and hand it the secret."""

    async def create(*event_types: str, url: str | None = None) -> dict[str, Any]:
        types = list(event_types) or [
            "obligation.opened",
            "obligation.missed_again",
            "obligation.closed",
            "obligation.overdue",
            "nudge.sent",
            "voicemail.transcribed",
            "callback.attempted",
        ]
        response = await api.post(
            "/api/v1/webhooks", json={"url": url or receiver.url, "event_types": types}
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        receiver.secret = created["secret"]
        return created

    return create


@pytest.fixture
def hooks(runtime: Runtime) -> WebhookLoop:
    """The worker's webhook loop, run a pass at a time (`await hooks.run_once()`); a 1 s
    timeout keeps the hanging-receiver tests short."""
    return WebhookLoop(runtime, timeout=1.0)


@pytest.fixture
def recruiter(db: TestDatabase) -> Recruiter:
    return make_recruiter(db)


def deliveries(db: TestDatabase) -> list[WebhookDelivery]:
    return list(db.all(WebhookDelivery))
