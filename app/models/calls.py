"""What Twilio reported: calls, voicemails, and texts that reached a line."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId, partial_index


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
        partial_index("ix_calls_missed", "missed_at", where="missed_at IS NOT NULL"),
        partial_index(
            "ix_calls_recruiter_party",
            "recruiter_id",
            "party",
            "party_at",
            where="party IS NOT NULL",
        ),
    )


class Voicemail(Base):
    """A recording left on a line, and its transcript, by RecordingSid (either may come first);
    no obligation while unattached: its call is not known yet, or no message was left."""

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
