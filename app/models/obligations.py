"""Obligations (a caller owed a call back), their timelines, and whom not to text."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId, enum_column, partial_index


class ObligationStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class CloseReason(StrEnum):
    CALLBACK = "callback"
    ANSWERED = "answered"
    RECRUITER = "recruiter"
    OPS = "ops"


class CallerText(StrEnum):
    """What became of the text-back to an obligation's caller, or why there is none."""

    PENDING = "pending"  # opened; the worker has not looked at it yet
    QUEUED = "queued"
    SENT = "sent"
    WITHHELD = "withheld"
    OPTED_OUT = "opted_out"
    LANDLINE = "landline"
    DISABLED = "disabled"  # CALLER_TEXT=off
    RECRUITER_OFF = "recruiter_off"  # the recruiter's caller_text is off
    TOO_LATE = "too_late"  # it would arrive after the promise
    CANCELLED = "cancelled"  # closed (or the promise passed) before it went
    FAILED = "failed"


class Obligation(Base):
    __tablename__ = "obligations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    recruiter_id: Mapped[int] = mapped_column(ForeignKey("recruiters.id"))
    caller: Mapped[str | None] = mapped_column(String(20))
    caller_name: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[ObligationStatus] = mapped_column(enum_column(ObligationStatus))
    opened_at: Mapped[datetime]
    last_missed_at: Mapped[datetime]
    missed_calls: Mapped[int] = mapped_column(default=1)
    reminders_sent: Mapped[int] = mapped_column(default=0)
    next_reminder_at: Mapped[datetime | None]
    snoozed_until: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    callback_attempts: Mapped[int] = mapped_column(default=0)
    sms_error_code: Mapped[int | None]
    closed_at: Mapped[datetime | None]
    close_reason: Mapped[CloseReason | None] = mapped_column(enum_column(CloseReason))
    seconds_to_close: Mapped[int | None]
    updated_at: Mapped[datetime]
    # Set once the worker announced `obligation.overdue` (at most once per obligation).
    overdue_at: Mapped[datetime | None]
    # Set when erasure or retention removed what named the caller.
    redacted_at: Mapped[datetime | None]
    promised_by: Mapped[datetime | None]
    caller_text: Mapped[CallerText | None] = mapped_column(enum_column(CallerText))

    __table_args__ = (
        # One open obligation per recruiter and caller; NULL callers (withheld) never merge.
        partial_index(
            "uq_obligations_open_recruiter_caller",
            "recruiter_id",
            "caller",
            unique=True,
            where="status = 'open'",
        ),
        partial_index(
            "ix_obligations_due", "next_reminder_at", where="next_reminder_at IS NOT NULL"
        ),
        Index("ix_obligations_opened", "opened_at", "id"),
        Index("ix_obligations_status_opened", "status", "opened_at", "id"),
        Index("ix_obligations_recruiter_opened", "recruiter_id", "opened_at", "id"),
        Index("ix_obligations_caller_opened", "caller", "opened_at", "id"),
        partial_index("ix_obligations_closed", "closed_at", where="closed_at IS NOT NULL"),
        # status leads although constant: SQLite's planner then prefers it to the status index.
        partial_index(
            "ix_obligations_promised_open", "status", "promised_by", "id", where="status = 'open'"
        ),
        partial_index("ix_obligations_caller_text_pending", "id", where="caller_text = 'pending'"),
        # Open rows not yet announced `obligation.overdue`: announcing takes a row out.
        partial_index(
            "ix_obligations_overdue_unannounced",
            "status",
            "promised_by",
            "id",
            where="status = 'open' AND overdue_at IS NULL",
        ),
    )


class ObligationEvent(Base):
    """One line of an obligation's timeline."""

    __tablename__ = "obligation_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    obligation_id: Mapped[int] = mapped_column(ForeignKey("obligations.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(120))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (Index("ix_obligation_events_timeline", "obligation_id", "at", "id"),)


class CallerOptOut(Base):
    """A caller a line must not text: they texted STOP to it, or their number is a landline."""

    __tablename__ = "caller_opt_outs"

    line: Mapped[str] = mapped_column(String(20), primary_key=True)
    caller: Mapped[str] = mapped_column(String(20), primary_key=True)
    reason: Mapped[str] = mapped_column(String(24))  # opted_out or landline
    at: Mapped[datetime]
