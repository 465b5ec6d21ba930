"""A subscription's delivery log, and sending one delivery again."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, NotFound
from app.models import WebhookDelivery, WebhookDeliveryStatus
from app.paging import Page, newest_first
from app.webhooks.fanout import RETRY_WINDOW
from app.webhooks.subscriptions import get


async def delivery_log(
    session: AsyncSession, *, subscription_id: int, cursor: str | None, limit: int
) -> Page[WebhookDelivery]:
    """A page of a subscription's deliveries, newest first."""
    await get(session, subscription_id)
    statement = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
    return await newest_first(
        session,
        statement,
        kind=f"webhook-deliveries-{subscription_id}",
        at=WebhookDelivery.created_at,
        id=WebhookDelivery.id,
        cursor=cursor,
        limit=limit,
    )


async def redeliver(
    session: AsyncSession, *, subscription_id: int, delivery_id: int, at: datetime
) -> WebhookDelivery:
    """Send a delivery again now: the same body under the same `webhook-id`."""
    delivery = await session.get(
        WebhookDelivery, delivery_id, with_for_update=True, populate_existing=True
    )
    if delivery is None or delivery.subscription_id != subscription_id:
        raise NotFound(f"webhook {subscription_id} has no delivery {delivery_id}")
    if delivery.status is WebhookDeliveryStatus.SENDING:
        raise Conflict(f"delivery {delivery_id} is being sent right now")
    delivery.status = WebhookDeliveryStatus.PENDING
    delivery.next_attempt_at = at
    delivery.give_up_at = at + RETRY_WINDOW  # retried like a new one, if it fails
    delivery.updated_at = at
    await session.flush()
    return delivery
