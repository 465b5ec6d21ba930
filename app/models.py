"""The tables. Invariants that the database can hold live here as keys and indexes."""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    false,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite autoincrements only an INTEGER primary key.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC, on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware one")
        moment = value.astimezone(UTC)
        # SQLite stores text; naive UTC keeps it one sortable format.
        return moment.replace(tzinfo=None) if dialect.name == "sqlite" else moment

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _enum(enum_class: type[StrEnum]) -> Enum:
    return Enum(
        enum_class,
        native_enum=False,
        length=24,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


def _where(condition: str) -> dict[str, Any]:
    """The same partial-index condition for both dialects (SQLite needs its own keyword)."""
    return {"sqlite_where": text(condition), "postgresql_where": text(condition)}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


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


class Recruiter(Base):
    __tablename__ = "recruiters"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    mobile: Mapped[str] = mapped_column(String(20))
    line: Mapped[str] = mapped_column(String(20))
    timezone: Mapped[str] = mapped_column(String(64))
    working_hours: Mapped[dict[str, list[list[str]]] | None] = mapped_column(JSON)
    escalation_number: Mapped[str | None] = mapped_column(String(20))
    client_identity: Mapped[str | None] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sms_blocked_at: Mapped[datetime | None]
    sms_error_code: Mapped[int | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # The public pledge record: opt-in, under /pledge/<slug>.
    public_pledge: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    slug: Mapped[str | None] = mapped_column(String(60))
    caller_text: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    caller_text_template: Mapped[str | None] = mapped_column(String(320))

    __table_args__ = (
        Index("uq_recruiters_active_line", "line", unique=True, **_where("active")),
        Index("uq_recruiters_active_mobile", "mobile", unique=True, **_where("active")),
        Index(
            "uq_recruiters_active_client_identity",
            "client_identity",
            unique=True,
            **_where("active AND client_identity IS NOT NULL"),
        ),
        Index(
            "uq_recruiters_active_slug",
            "slug",
            unique=True,
            **_where("active AND slug IS NOT NULL"),
        ),
    )


class Obligation(Base):
    __tablename__ = "obligations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    recruiter_id: Mapped[int] = mapped_column(ForeignKey("recruiters.id"))
    caller: Mapped[str | None] = mapped_column(String(20))
    caller_name: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[ObligationStatus] = mapped_column(_enum(ObligationStatus))
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
    close_reason: Mapped[CloseReason | None] = mapped_column(_enum(CloseReason))
    seconds_to_close: Mapped[int | None]
    updated_at: Mapped[datetime]
    # Set once the worker announced `obligation.overdue` (at most once per obligation).
    overdue_at: Mapped[datetime | None]
    # Set when erasure or retention removed what named the caller.
    redacted_at: Mapped[datetime | None]
    promised_by: Mapped[datetime | None]
    caller_text: Mapped[CallerText | None] = mapped_column(_enum(CallerText))

    __table_args__ = (
        # One open obligation per recruiter and caller; NULL callers (withheld) never merge.
        Index(
            "uq_obligations_open_recruiter_caller",
            "recruiter_id",
            "caller",
            unique=True,
            **_where("status = 'open'"),
        ),
        Index("ix_obligations_due", "next_reminder_at", **_where("next_reminder_at IS NOT NULL")),
        Index("ix_obligations_opened", "opened_at", "id"),
        Index("ix_obligations_status_opened", "status", "opened_at", "id"),
        Index("ix_obligations_recruiter_opened", "recruiter_id", "opened_at", "id"),
        Index("ix_obligations_caller_opened", "caller", "opened_at", "id"),
        Index("ix_obligations_closed", "closed_at", **_where("closed_at IS NOT NULL")),
        # status leads although constant: SQLite's planner then prefers it to the status index.
        Index(
            "ix_obligations_promised_open",
            "status",
            "promised_by",
            "id",
            **_where("status = 'open'"),
        ),
        Index("ix_obligations_caller_text_pending", "id", **_where("caller_text = 'pending'")),
        # Open rows not yet announced `obligation.overdue`: announcing takes a row out.
        Index(
            "ix_obligations_overdue_unannounced",
            "status",
            "promised_by",
            "id",
            **_where("status = 'open' AND overdue_at IS NULL"),
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


class Call(Base):
    """Every CallSid the service has seen, with its latest known status."""

    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    parent_call_sid: Mapped[str | None] = mapped_column(String(64), index=True)
    direction: Mapped[str] = mapped_column(String(32))
    from_number: Mapped[str] = mapped_column(String(128))
    to_number: Mapped[str] = mapped_column(String(128))
    caller_name: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(24))
    sequence_number: Mapped[int | None]
    duration_seconds: Mapped[int | None]
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    recruiter_id: Mapped[int | None] = mapped_column(ForeignKey("recruiters.id"))
    obligation_id: Mapped[int | None] = mapped_column(ForeignKey("obligations.id"), index=True)
    # Set once, by whichever callback first reports this call as missed.
    missed_at: Mapped[datetime | None]
    # A recruiter's call with someone (`party`, E.164): a callback that connected or went
    # unanswered, or a caller's call they took; `party_at` is when it connected or ended.
    party: Mapped[str | None] = mapped_column(String(20))
    party_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_calls_started", "started_at", "id"),
        Index("ix_calls_recruiter_started", "recruiter_id", "started_at", "id"),
        Index("ix_calls_missed", "missed_at", **_where("missed_at IS NOT NULL")),
        Index(
            "ix_calls_recruiter_party",
            "recruiter_id",
            "party",
            "party_at",
            **_where("party IS NOT NULL"),
        ),
    )


class Voicemail(Base):
    __tablename__ = "voicemails"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    recording_sid: Mapped[str] = mapped_column(String(64), unique=True)
    call_sid: Mapped[str] = mapped_column(String(64), index=True)
    obligation_id: Mapped[int | None] = mapped_column(ForeignKey("obligations.id"), index=True)
    recording_url: Mapped[str | None] = mapped_column(String(500))
    duration_seconds: Mapped[int | None]
    recording_status: Mapped[str | None] = mapped_column(String(24))
    transcript: Mapped[str | None] = mapped_column(Text)
    transcript_status: Mapped[str | None] = mapped_column(String(24))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class OutboxItem(Base):
    """One piece of outgoing Twilio work (an SMS or a call), sent by the worker."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[OutboxKind] = mapped_column(_enum(OutboxKind))
    purpose: Mapped[str] = mapped_column(String(32))
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)
    recruiter_id: Mapped[int | None] = mapped_column(ForeignKey("recruiters.id"), index=True)
    to_number: Mapped[str] = mapped_column(String(20))
    from_number: Mapped[str | None] = mapped_column(String(20))
    body: Mapped[str | None] = mapped_column(Text)
    call_target: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[OutboxStatus] = mapped_column(_enum(OutboxStatus))
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
        Index("ix_outbox_due", "next_attempt_at", **_where("status = 'pending'")),
        Index("ix_outbox_in_flight", "claimed_at", **_where("status = 'sending'")),
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


class InboundMessage(Base):
    """Every SMS that reached a line: a recruiter's command or a stranger's text."""

    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_sid: Mapped[str] = mapped_column(String(64), unique=True)
    from_number: Mapped[str] = mapped_column(String(128))
    to_number: Mapped[str] = mapped_column(String(128))
    body: Mapped[str] = mapped_column(Text)
    recruiter_id: Mapped[int | None] = mapped_column(ForeignKey("recruiters.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    # The TwiML reply's text (None: no reply), so a retried delivery gets the same answer.
    reply: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime]


class ApiToken(Base):
    """An ops API token, stored as a SHA-256 hash; its name is the actor on the timeline."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    __table_args__ = (
        Index("uq_api_tokens_live_name", "name", unique=True, **_where("revoked_at IS NULL")),
    )


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

    __table_args__ = (Index("ix_webhook_events_waiting", "id", **_where("fanned_out_at IS NULL")),)


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
    status: Mapped[WebhookDeliveryStatus] = mapped_column(_enum(WebhookDeliveryStatus))
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
        Index("ix_webhook_deliveries_due", "next_attempt_at", **_where("status = 'pending'")),
        Index("ix_webhook_deliveries_in_flight", "claimed_at", **_where("status = 'sending'")),
    )


class AuditEntry(Base):
    """What was done to personal data (an erasure, a retention sweep): counts, never the data."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(120))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class RecordingDeletion(Base):
    """A Twilio recording to delete through the REST API (done outside any transaction)."""

    __tablename__ = "recording_deletions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    recording_sid: Mapped[str] = mapped_column(String(64), unique=True)
    requested_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    deleted_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (
        Index("ix_recording_deletions_waiting", "id", **_where("deleted_at IS NULL")),
    )


class CallerOptOut(Base):
    """A caller a line must not text: they texted STOP to it, or their number is a landline."""

    __tablename__ = "caller_opt_outs"

    line: Mapped[str] = mapped_column(String(20), primary_key=True)
    caller: Mapped[str] = mapped_column(String(20), primary_key=True)
    reason: Mapped[str] = mapped_column(String(24))  # opted_out or landline
    at: Mapped[datetime]
