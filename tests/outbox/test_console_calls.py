"""SMS_BACKEND=console with real credentials: SMS are printed, click-to-calls are placed."""

from typing import Any

import pytest

from app.clock import ManualClock
from app.config import Settings
from app.models import OutboxItem, OutboxKind, OutboxStatus
from app.outbox.worker import Worker
from app.twilio.outbound import ConsoleTransport, transport_for
from tests.outbox.helpers import Sessions, first_nudge, queue_call
from tests.support.databases import TestDatabase
from tests.support.fake_twilio import FakeTwilio


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"sms_backend": "console"}


async def test_a_click_to_call_goes_through_twilio_while_the_sms_is_printed(
    db: TestDatabase,
    sessions: Sessions,
    settings: Settings,
    clock: ManualClock,
    worker: Worker,
    fake_twilio: FakeTwilio,
    capsys: pytest.CaptureFixture[str],
) -> None:
    recruiter = await first_nudge(db, sessions, settings, clock)
    await queue_call(sessions, recruiter, clock.now())

    await worker.run_once()

    [call] = fake_twilio.calls
    assert (call["to"], call["from"]) == (recruiter.mobile, recruiter.line)
    assert fake_twilio.messages == []
    printed = capsys.readouterr().out
    assert f"SMS to {recruiter.mobile}" in printed and "CALL to" not in printed
    placed = db.one(OutboxItem, OutboxItem.kind == OutboxKind.CALL)
    assert (placed.status, placed.twilio_sid) == (OutboxStatus.SENT, call["sid"])


def test_without_credentials_the_console_prints_calls_too(settings: Settings) -> None:
    demo = settings.model_copy(update={"twilio_account_sid": None, "twilio_auth_token": None})
    assert isinstance(transport_for(demo), ConsoleTransport)
