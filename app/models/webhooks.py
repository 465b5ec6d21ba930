"""Signed event webhooks: subscriptions, events, and deliveries."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId, enum_column, partial_index


class WebhookDeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its next attempt
    SENDING = "sending"  # claimed by a worker; the answer is not recorded yet
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # gave up: retried for the whole retry window, or the subscription went


class WebhookSubscription(Base):
    """A receiver of signed event webhooks (Standard Webhooks)."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    event_types: Mapped[list[str]] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    # The first failure of the current run of failures (None after any success).
    failing_since: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class WebhookEvent(Base):
    """An event, written in the transaction of the change it reports; fanned out later."""

    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    type: Mapped[str] = mapped_column(String(40))
    obligation_id: Mapped[int | None] = mapped_column(
        ForeignKey("obligations.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    fanned_out_at: Mapped[datetime | None]

    __table_args__ = (
        partial_index("ix_webhook_events_waiting", "id", where="fanned_out_at IS NULL"),
    )


class WebhookDelivery(Base):
    """One event for one subscription: its frozen body, and how its attempts went."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    event_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_events.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[str] = mapped_column(String(40))
    event_type: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[WebhookDeliveryStatus] = mapped_column(enum_column(WebhookDeliveryStatus))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    give_up_at: Mapped[datetime]  # no attempt after this (24 h after fan-out or redelivery)
    claimed_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    response_status: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        Index(
            "uq_webhook_deliveries_subscription_message",
            "subscription_id",
            "message_id",
            unique=True,
        ),
        Index("ix_webhook_deliveries_log", "subscription_id", "created_at", "id"),
        partial_index("ix_webhook_deliveries_due", "next_attempt_at", where="status = 'pending'"),
        partial_index("ix_webhook_deliveries_in_flight", "claimed_at", where="status = 'sending'"),
    )
