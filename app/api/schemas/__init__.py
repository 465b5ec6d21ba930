"""The JSON the ops API reads and writes, by resource. Times are ISO 8601 in UTC."""

from app.api.schemas.calls import CallPage, CallRecord
from app.api.schemas.fields import OptionalInstant, T, examples
from app.api.schemas.obligations import (
    CallRequested,
    CloseRequest,
    Event,
    Obligation,
    ObligationDetail,
    ObligationPage,
    SnoozeFor,
    SnoozeUntil,
    Voicemail,
    obligation_detail_out,
    obligation_out,
)
from app.api.schemas.recruiters import Recruiter, RecruiterCreate, RecruiterList, RecruiterUpdate

__all__ = [
    "CallPage",
    "CallRecord",
    "CallRequested",
    "CloseRequest",
    "Event",
    "Obligation",
    "ObligationDetail",
    "ObligationPage",
    "OptionalInstant",
    "Recruiter",
    "RecruiterCreate",
    "RecruiterList",
    "RecruiterUpdate",
    "SnoozeFor",
    "SnoozeUntil",
    "T",
    "Voicemail",
    "examples",
    "obligation_detail_out",
    "obligation_out",
]
