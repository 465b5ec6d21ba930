"""Recruiters: who answers a line, and where their calls go."""

from datetime import datetime

from sqlalchemy import JSON, Boolean, String, false, true
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, partial_index


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
        partial_index("uq_recruiters_active_line", "line", unique=True, where="active"),
        partial_index("uq_recruiters_active_mobile", "mobile", unique=True, where="active"),
        partial_index(
            "uq_recruiters_active_client_identity",
            "client_identity",
            unique=True,
            where="active AND client_identity IS NOT NULL",
        ),
        partial_index(
            "uq_recruiters_active_slug", "slug", unique=True, where="active AND slug IS NOT NULL"
        ),
    )
