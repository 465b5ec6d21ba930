"""Twilio's reports of a recruiter's calls, each stamped with Twilio's own event time."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import Any

from app.twilio import twiml

CALLER = "+447700900123"


@dataclass(frozen=True)
class Report:
    """One webhook: where it goes, its form, and when Twilio would first send it."""

    name: str
    path: str
    params: dict[str, str]
    sent_at: datetime
    can_be_late: bool = True  # a Dial action is answered in the call: it never comes late


def miss(sid: str, *, line: str, at: datetime) -> Report:
    """Observe mode: a call to the line that rang out (its status callback)."""
    params = _status(sid, CALLER, line, "inbound", "no-answer", at) | {"CallDuration": "0"}
    return Report(f"miss {sid}", twiml.STATUS, params, at)


def callback(sid: str, *, line: str, connected: datetime, talked: int = 60) -> Report:
    """The recruiter's call from the line to the caller, answered: reported when it ends."""
    ended = connected + timedelta(seconds=talked)
    params = _status(sid, line, CALLER, "outbound-api", "completed", ended)
    return Report(f"callback {sid}", twiml.STATUS, params | {"CallDuration": str(talked)}, ended)


def attempt(sid: str, *, line: str, at: datetime) -> Report:
    """The recruiter's call to the caller that nobody answered."""
    params = _status(sid, line, CALLER, "outbound-api", "no-answer", at)
    return Report(f"attempt {sid}", twiml.STATUS, params | {"CallDuration": "0"}, at)


def answered(sid: str, *, line: str, recruiter_id: int, connected: datetime) -> Report:
    """The caller rang again and the recruiter took it: the Dial action, at the call's end."""
    talked = 20
    params = {
        "CallSid": sid,
        "From": CALLER,
        "To": line,
        "Direction": "inbound",
        "CallStatus": "completed",
        "DialCallStatus": "completed",
        "DialBridged": "true",
        "DialCallDuration": str(talked),
    }
    path = f"{twiml.DIAL_RESULT}?recruiter={recruiter_id}"
    ended = connected + timedelta(seconds=talked)
    return Report(f"answered {sid}", path, params, ended, can_be_late=False)


def dialled_miss(sid: str, *, line: str, recruiter_id: int, at: datetime) -> Report:
    """The caller rang again and the recruiter did not pick up: the Dial action, at once."""
    params = {
        "CallSid": sid,
        "From": CALLER,
        "To": line,
        "Direction": "inbound",
        "CallStatus": "in-progress",
        "DialCallStatus": "no-answer",
        "DialBridged": "false",
    }
    path = f"{twiml.DIAL_RESULT}?recruiter={recruiter_id}"
    return Report(f"dialled miss {sid}", path, params, at, can_be_late=False)


def _status(
    sid: str, from_: str, to: str, direction: str, status: str, at: datetime
) -> dict[str, Any]:
    return {
        "CallSid": sid,
        "From": from_,
        "To": to,
        "Direction": direction,
        "CallStatus": status,
        "Timestamp": format_datetime(at),
    }
