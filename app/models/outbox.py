"""The outbox: outgoing Twilio work, and the obligations it speaks about."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId, enum_column, partial_index


class OutboxKind(StrEnum):
    SMS = "sms"
    CALL = "call"


class OutboxStatus(StrEnum):
    PENDING = "pending"  # waiting for its next attempt
    SENDING = "sending"  # claimed by a worker; the outcome is not recorded yet
    SENT = "sent"  # accepted by Twilio (or printed by the console backend)
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"  # permanent error: no more attempts
    CANCELLED = "cancelled"  # a reminder whose obligations all closed before it went out


class OutboxItem(Base):
    """One piece of outgoing Twilio work (an SMS or a call), sent by the worker."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[OutboxKind] = mapped_column(enum_column(OutboxKind))
    purpose: Mapped[str] = mapped_column(String(32))
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)
    recruiter_id: Mapped[int | None] = mapped_column(ForeignKey("recruiters.id"), index=True)
    to_number: Mapped[str] = mapped_column(String(20))
    from_number: Mapped[str | None] = mapped_column(String(20))
    body: Mapped[str | None] = mapped_column(Text)
    call_target: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[OutboxStatus] = mapped_column(enum_column(OutboxStatus))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    twilio_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    error_code: Mapped[int | None]
    error_message: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]

    __table_args__ = (
        partial_index("ix_outbox_due", "next_attempt_at", where="status = 'pending'"),
        partial_index("ix_outbox_in_flight", "claimed_at", where="status = 'sending'"),
    )


class OutboxObligation(Base):
    """Which obligations an outbox item speaks about (a digest names several)."""

    __tablename__ = "outbox_obligations"

    outbox_id: Mapped[int] = mapped_column(
        ForeignKey("outbox.id", ondelete="CASCADE"), primary_key=True
    )
    obligation_id: Mapped[int] = mapped_column(
        ForeignKey("obligations.id", ondelete="CASCADE"), primary_key=True, index=True
    )
