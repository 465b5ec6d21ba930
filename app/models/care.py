"""Access and care of personal data: API tokens, the audit log, recording deletions."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId, partial_index


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
        partial_index("uq_api_tokens_live_name", "name", unique=True, where="revoked_at IS NULL"),
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
        partial_index("ix_recording_deletions_waiting", "id", where="deleted_at IS NULL"),
    )
