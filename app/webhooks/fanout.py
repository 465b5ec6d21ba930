"""Fan-out: each new event becomes one delivery per subscription that wants it.

The body is built and frozen here: every attempt, and every redelivery, sends the same
bytes under the same `webhook-id`, so receivers can drop duplicates by that id.
"""

import json
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import (
    Obligation,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEvent,
    WebhookSubscription,
)

BATCH = 100
RETRY_WINDOW = timedelta(hours=24)
KEEP = timedelta(days=30)  # how long the delivery log keeps an event and its deliveries
PRUNE_BATCH = 500


async def fan_out(session: AsyncSession, *, now: datetime) -> int:
    """Turn a batch of new events into deliveries; the number of events handled."""
    events = (
        await session.scalars(
            select(WebhookEvent)
            .where(WebhookEvent.fanned_out_at.is_(None))
            .order_by(WebhookEvent.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        )
    ).all()
    if not events:
        return 0
    subscriptions = (
        await session.scalars(
            select(WebhookSubscription).where(WebhookSubscription.enabled == true())
        )
    ).all()
    obligations = await _obligations(session, [e.obligation_id for e in events])
    rows: list[dict[str, Any]] = []
    for event in events:
        event.fanned_out_at = now
        wanted = [s for s in subscriptions if event.type in s.event_types]
        if wanted:
            obligation = obligations.get(event.obligation_id or 0)
            rows += _deliveries(event, obligation, wanted, now)
    if rows:
        await session.execute(insert(WebhookDelivery), rows)
    await session.flush()
    return len(events)


async def _obligations(session: AsyncSession, ids: Sequence[int | None]) -> dict[int, Obligation]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    found = await session.scalars(select(Obligation).where(Obligation.id.in_(wanted)))
    return {obligation.id: obligation for obligation in found}


def _deliveries(
    event: WebhookEvent,
    obligation: Obligation | None,
    subscriptions: Sequence[WebhookSubscription],
    now: datetime,
) -> list[dict[str, Any]]:
    message_id = "msg_" + secrets.token_urlsafe(18)
    body = frozen_body(event, obligation)
    return [
        {
            "subscription_id": subscription.id,
            "event_id": event.id,
            "message_id": message_id,
            "event_type": event.type,
            "body": body,
            "status": WebhookDeliveryStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "give_up_at": now + RETRY_WINDOW,
            "created_at": now,
            "updated_at": now,
        }
        for subscription in subscriptions
    ]


def frozen_body(event: WebhookEvent, obligation: Obligation | None) -> str:
    """The JSON payload (Standard Webhooks' `type`, `timestamp`, `data`)."""
    data: dict[str, Any] = {"obligation_id": event.obligation_id}
    if obligation is not None:
        data |= {
            "recruiter_id": obligation.recruiter_id,
            "caller": obligation.caller,
            "caller_name": obligation.caller_name,
            "status": obligation.status.value,
            "opened_at": _iso(obligation.opened_at),
            "missed_calls": obligation.missed_calls,
            "closed_at": _iso(obligation.closed_at),
            "close_reason": obligation.close_reason.value if obligation.close_reason else None,
        }
    data |= event.data or {}
    payload = {"type": event.type, "timestamp": _iso(event.at), "data": data}
    return json.dumps(payload, separators=(",", ":"), sort_keys=True)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def prune(session: AsyncSession, *, now: datetime, keep: timedelta = KEEP) -> int:
    """Delete a batch of events fanned out longer than `keep` ago, with their deliveries
    (the delivery log's bodies name callers: they are not kept for ever)."""
    old = (
        select(WebhookEvent.id)
        .where(WebhookEvent.fanned_out_at < now - keep)
        .order_by(WebhookEvent.id)
        .limit(PRUNE_BATCH)
    )
    ids = list(await session.scalars(old))
    if ids:
        await session.execute(
            delete(WebhookEvent)
            .where(WebhookEvent.id.in_(ids))
            .execution_options(synchronize_session=False)
        )
    return len(ids)
