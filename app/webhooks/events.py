"""The events subscribers can receive, and the one hook that writes them with the change.

An event row is written in the transaction of the change it reports (so it exists exactly
when the change committed), and only while some subscription is enabled: a service
without webhooks pays one cheap `EXISTS` per timeline line and stores nothing.
"""

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import exists, insert, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.courtesy.overdue import overdue_at
from app.db import core_table, value_param, values_for
from app.models import (
    Obligation,
    OutboxObligation,
    WebhookEvent,
    WebhookSubscription,
)


class EventType(StrEnum):
    OPENED = "obligation.opened"
    MISSED_AGAIN = "obligation.missed_again"
    CLOSED = "obligation.closed"
    OVERDUE = "obligation.overdue"
    NUDGE_SENT = "nudge.sent"
    TRANSCRIBED = "voicemail.transcribed"
    CALLBACK_ATTEMPTED = "callback.attempted"


# Timeline kinds (obligations.EventKind values) that are events subscribers can receive.
FROM_TIMELINE: dict[str, EventType] = {
    "opened": EventType.OPENED,
    "missed_call": EventType.MISSED_AGAIN,
    "closed": EventType.CLOSED,
    "transcript": EventType.TRANSCRIBED,
    "callback_attempt": EventType.CALLBACK_ATTEMPTED,
}


async def emit_for_timeline(
    session: AsyncSession,
    *,
    kind: str,
    obligation_ids: Sequence[int],
    at: datetime,
    detail: dict[str, Any] | None,
) -> None:
    """The event a timeline line stands for, if it is one subscribers can receive."""
    event_type = FROM_TIMELINE.get(kind)
    if event_type is not None:
        await emit(session, type=event_type, obligation_ids=obligation_ids, at=at, data=detail)


async def emit(
    session: AsyncSession,
    *,
    type: EventType,
    obligation_ids: Sequence[int],
    at: datetime,
    data: dict[str, Any] | None,
) -> None:
    """Write one event per obligation, in the caller's transaction, if anyone listens."""
    if not obligation_ids:
        return
    rows = [
        values_for({"type": type.value, "obligation_id": oid, "at": at, "data": data})
        for oid in obligation_ids
    ]
    await session.execute(_insert_if_subscribed(), rows)


@cache
def _insert_if_subscribed() -> Any:
    enabled = exists(select(WebhookSubscription.id).where(WebhookSubscription.enabled == true()))
    columns = {
        "type": value_param(WebhookEvent.type),
        "obligation_id": value_param(WebhookEvent.obligation_id),
        "at": value_param(WebhookEvent.at),
        "data": value_param(WebhookEvent.data),
    }
    source = select(*[value.label(name) for name, value in columns.items()]).where(enabled)
    return insert(core_table(WebhookEvent)).from_select(list(columns), source)


async def mark_overdue(session: AsyncSession, *, now: datetime) -> int:
    """Announce `obligation.overdue` once per obligation past its promise (a batch, the
    longest overdue first).

    Overdue means what the listing and the gauge mean (`overdue_at` in app/courtesy); the
    rows not yet announced are read through their own partial index, which announced rows
    leave, so a pass costs the same however many overdue obligations stay open.
    """
    ids = list(
        (
            await session.scalars(
                select(Obligation.id)
                .where(*overdue_at(now), Obligation.overdue_at.is_(None))
                .order_by(Obligation.status, Obligation.promised_by, Obligation.id)
                .limit(100)
                .with_for_update(skip_locked=True)
            )
        ).all()
    )
    if not ids:
        return 0
    await session.execute(update(Obligation).where(Obligation.id.in_(ids)).values(overdue_at=now))
    await emit(session, type=EventType.OVERDUE, obligation_ids=ids, at=now, data=None)
    return len(ids)


async def nudge_accepted(
    session: AsyncSession, *, outbox_id: int, purpose: str, at: datetime
) -> None:
    """`nudge.sent` for each obligation a reminder SMS names, once Twilio accepted it."""
    linked = await session.scalars(
        select(OutboxObligation.obligation_id)
        .where(OutboxObligation.outbox_id == outbox_id)
        .order_by(OutboxObligation.obligation_id)
    )
    data = {"outbox_id": outbox_id, "purpose": purpose}
    await emit(session, type=EventType.NUDGE_SENT, obligation_ids=list(linked), at=at, data=data)
