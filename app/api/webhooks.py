"""/api/v1/webhooks: subscriptions, their delivery log, and redelivery."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.http.deps import ClockDep, SessionDep, SettingsDep
from app.http.openapi import responses
from app.models import WebhookDeliveryStatus
from app.webhooks import deliveries, subscriptions

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
WebhookId = Annotated[int, Path(ge=1, le=2**31 - 1)]
DeliveryId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Url = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
EventTypes = Annotated[list[Annotated[str, StringConstraints(max_length=40)]], Field(max_length=20)]
Description = Annotated[str, StringConstraints(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")]
Cursor = Annotated[str | None, Query(max_length=400, pattern=r"^[A-Za-z0-9_\-]+$")]


class WebhookIn(BaseModel):
    url: Url
    event_types: EventTypes = Field(examples=[["obligation.opened", "obligation.closed"]])
    description: Description | None = None


class WebhookPatch(BaseModel):
    url: Url | None = None
    event_types: EventTypes | None = None
    description: Description | None = None
    enabled: bool | None = None


class Webhook(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    event_types: list[str]
    description: str | None
    enabled: bool
    disabled_reason: str | None
    failing_since: datetime | None
    created_at: datetime
    updated_at: datetime


class WebhookCreated(Webhook):
    secret: str = Field(description="shown only now: sign-check deliveries with it")


class Delivery(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    message_id: str = Field(description="the `webhook-id` header, the same on every attempt")
    event_type: str
    status: WebhookDeliveryStatus
    attempts: int
    next_attempt_at: datetime
    give_up_at: datetime
    last_attempt_at: datetime | None
    response_status: int | None
    error: str | None
    delivered_at: datetime | None
    created_at: datetime
    body: str


class DeliveryPage(BaseModel):
    items: list[Delivery]
    next_cursor: str | None


@router.post("", status_code=201, summary="Subscribe a URL", responses=responses(422))
async def create(
    body: WebhookIn, session: SessionDep, settings: SettingsDep, clock: ClockDep
) -> WebhookCreated:
    subscription = await subscriptions.create(
        session,
        url=body.url,
        event_types=body.event_types,
        description=body.description,
        allow_insecure=settings.allow_insecure_webhooks,
        at=clock.now(),
    )
    return WebhookCreated.model_validate(subscription)


@router.get("", summary="Every subscription")
async def list_all(session: SessionDep) -> list[Webhook]:
    return [Webhook.model_validate(s) for s in await subscriptions.list_all(session)]


@router.get("/{webhook_id}", summary="One subscription", responses=responses(404, 422))
async def get_one(webhook_id: WebhookId, session: SessionDep) -> Webhook:
    return Webhook.model_validate(await subscriptions.get(session, webhook_id))


@router.patch("/{webhook_id}", summary="Change, enable or disable", responses=responses(404, 422))
async def change(
    webhook_id: WebhookId,
    body: WebhookPatch,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> Webhook:
    subscription = await subscriptions.change(
        session,
        subscription_id=webhook_id,
        change=subscriptions.SubscriptionChange(**body.model_dump()),
        allow_insecure=settings.allow_insecure_webhooks,
        at=clock.now(),
    )
    return Webhook.model_validate(subscription)


@router.delete("/{webhook_id}", status_code=204, summary="Remove", responses=responses(404, 422))
async def remove(webhook_id: WebhookId, session: SessionDep) -> Response:
    await subscriptions.remove(session, subscription_id=webhook_id)
    return Response(status_code=204)


@router.get(
    "/{webhook_id}/deliveries",
    summary="The delivery log, newest first",
    responses=responses(404, 422),
)
async def delivery_log(
    webhook_id: WebhookId,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Cursor = None,
) -> DeliveryPage:
    page = await deliveries.delivery_log(
        session, subscription_id=webhook_id, cursor=cursor, limit=limit
    )
    items = [Delivery.model_validate(d) for d in page.items]
    return DeliveryPage(items=items, next_cursor=page.next_cursor)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    status_code=202,
    summary="Send a delivery again: same body, same webhook-id",
    responses=responses(404, 409, 422),
)
async def redeliver(
    webhook_id: WebhookId, delivery_id: DeliveryId, session: SessionDep, clock: ClockDep
) -> Delivery:
    delivery = await deliveries.redeliver(
        session, subscription_id=webhook_id, delivery_id=delivery_id, at=clock.now()
    )
    return Delivery.model_validate(delivery)
