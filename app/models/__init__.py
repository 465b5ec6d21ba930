"""The tables, by domain. Invariants that the database can hold live there as keys and indexes.

Importing the package imports every table module, so the metadata (and Alembic) sees them all.
"""

from app.models.base import Base, UTCDateTime
from app.models.calls import Call, InboundMessage, Voicemail
from app.models.care import ApiToken, AuditEntry, RecordingDeletion
from app.models.obligations import (
    CallerOptOut,
    CallerText,
    CloseReason,
    Obligation,
    ObligationEvent,
    ObligationStatus,
)
from app.models.outbox import OutboxItem, OutboxKind, OutboxObligation, OutboxStatus
from app.models.recruiters import Recruiter
from app.models.webhooks import (
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEvent,
    WebhookSubscription,
)

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Base",
    "Call",
    "CallerOptOut",
    "CallerText",
    "CloseReason",
    "InboundMessage",
    "Obligation",
    "ObligationEvent",
    "ObligationStatus",
    "OutboxItem",
    "OutboxKind",
    "OutboxObligation",
    "OutboxStatus",
    "RecordingDeletion",
    "Recruiter",
    "UTCDateTime",
    "Voicemail",
    "WebhookDelivery",
    "WebhookDeliveryStatus",
    "WebhookEvent",
    "WebhookSubscription",
]
