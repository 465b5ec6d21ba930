"""Deliver reports to the app at chosen arrival times, and read back the obligations' state."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx

from app.clock import ManualClock
from app.models import Call, Obligation, ObligationEvent
from tests.obligations.reports import Report
from tests.support.databases import TestDatabase
from tests.support.signer import TwilioSigner, post_webhook


async def deliver(
    client: httpx.AsyncClient,
    signer: TwilioSigner,
    clock: ManualClock,
    arrivals: Sequence[tuple[datetime, Report]],
) -> None:
    """POST each report, signed, with the clock at its arrival time (in the order given)."""
    for arrival, report in arrivals:
        clock.set(arrival)
        response = await post_webhook(client, signer, report.path, report.params)
        assert response.status_code < 300, (report.name, response.status_code, response.text)


def state(db: TestDatabase) -> list[dict[str, Any]]:
    """Every obligation as the user sees it (no ids), with its timeline's kinds and calls."""
    calls = db.all(Call)
    events = db.all(ObligationEvent)
    obligations = sorted(db.all(Obligation), key=lambda o: (o.opened_at, o.status))
    return [
        {
            "caller": o.caller,
            "status": o.status,
            "opened_at": o.opened_at,
            "last_missed_at": o.last_missed_at,
            "missed_calls": o.missed_calls,
            "closed_at": o.closed_at,
            "close_reason": o.close_reason,
            "seconds_to_close": o.seconds_to_close,
            "callback_attempts": o.callback_attempts,
            "next_reminder_at": o.next_reminder_at,
            "timeline": sorted(e.kind for e in events if e.obligation_id == o.id),
            "calls": sorted(c.call_sid for c in calls if c.obligation_id == o.id),
        }
        for o in obligations
    ]
