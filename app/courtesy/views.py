"""How the courtesy fields read to ops: overdue, and the recruiter's text-back settings."""

from datetime import datetime
from typing import Any

from app.courtesy.texts import TemplateError, check_template
from app.errors import InvalidInput
from app.models import Obligation, ObligationStatus


def is_overdue(obligation: Obligation, now: datetime) -> bool:
    """Open, and past its promise."""
    return (
        obligation.status is ObligationStatus.OPEN
        and obligation.promised_by is not None
        and obligation.promised_by < now
    )


def clean_caller_text(value: Any, _numbering: Any = None) -> bool:
    """A recruiter's `caller_text`: true or false (null: true, the default)."""
    if value is None:
        return True
    if not isinstance(value, bool):
        raise InvalidInput("caller_text must be true or false", field="caller_text")
    return value


def clean_template(value: Any, _numbering: Any = None) -> str | None:
    """A recruiter's text-back template; InvalidInput naming an unknown field."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise InvalidInput("caller_text_template must be text", field="caller_text_template")
    try:
        return check_template(value.strip())
    except TemplateError as exc:
        raise InvalidInput(f"caller_text_template {exc}", field="caller_text_template") from None
