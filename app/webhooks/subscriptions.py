"""Subscriptions: create (the secret is shown once), list, change, enable, disable, remove."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput, NotFound
from app.models import WebhookSubscription
from app.webhooks.events import EventType
from app.webhooks.signing import new_secret
from app.webhooks.urls import checked_url

EVENT_TYPES = tuple(member.value for member in EventType)


@dataclass(frozen=True)
class SubscriptionChange:
    """What a PATCH may change; None leaves a field as it is."""

    url: str | None = None
    event_types: Sequence[str] | None = None
    description: str | None = None
    enabled: bool | None = None


def checked_event_types(event_types: Sequence[str]) -> list[str]:
    """The event types, deduplicated in order; InvalidInput naming any unknown one."""
    unknown = [name for name in event_types if name not in EVENT_TYPES]
    if unknown:
        raise InvalidInput(
            f"unknown event type {unknown[0]!r}; known: {', '.join(EVENT_TYPES)}",
            field="event_types",
        )
    if not event_types:
        raise InvalidInput("name at least one event type", field="event_types")
    return list(dict.fromkeys(event_types))


async def create(
    session: AsyncSession,
    *,
    url: str,
    event_types: Sequence[str],
    description: str | None,
    allow_insecure: bool,
    at: datetime,
) -> WebhookSubscription:
    """A new, enabled subscription with a fresh secret (the only time it is shown)."""
    subscription = WebhookSubscription(
        url=checked_url(url, allow_insecure=allow_insecure),
        event_types=checked_event_types(event_types),
        secret=new_secret(),
        description=description,
        enabled=True,
        created_at=at,
        updated_at=at,
    )
    session.add(subscription)
    await session.flush()
    return subscription


async def list_all(session: AsyncSession) -> Sequence[WebhookSubscription]:
    """Every subscription, oldest first."""
    return (await session.scalars(select(WebhookSubscription).order_by("id"))).all()


async def get(
    session: AsyncSession, subscription_id: int, *, lock: bool = False
) -> WebhookSubscription:
    """One subscription; NotFound if there is none."""
    subscription = await session.get(
        WebhookSubscription, subscription_id, with_for_update=lock, populate_existing=True
    )
    if subscription is None:
        raise NotFound(f"webhook {subscription_id} does not exist")
    return subscription


async def change(
    session: AsyncSession,
    *,
    subscription_id: int,
    change: SubscriptionChange,
    allow_insecure: bool,
    at: datetime,
) -> WebhookSubscription:
    """Apply a change; enabling clears the reason it was disabled and its failure run."""
    subscription = await get(session, subscription_id, lock=True)
    if change.url is not None:
        subscription.url = checked_url(change.url, allow_insecure=allow_insecure)
    if change.event_types is not None:
        subscription.event_types = checked_event_types(change.event_types)
    if change.description is not None:
        subscription.description = change.description
    if change.enabled is not None:
        subscription.enabled = change.enabled
        subscription.disabled_reason = None if change.enabled else "disabled by an operator"
        subscription.failing_since = None
    subscription.updated_at = at
    await session.flush()
    return subscription


async def remove(session: AsyncSession, *, subscription_id: int) -> None:
    """Delete a subscription and its delivery log."""
    await session.delete(await get(session, subscription_id, lock=True))
    await session.flush()
