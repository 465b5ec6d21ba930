"""When a reported event happened: Twilio's own time where it sends one, else arrival.

Deliveries are late and out of order, so the server's clock at arrival can put a late
report of an earlier call after a prompt report of a later one. Status callbacks carry
`Timestamp` and recording callbacks `RecordingStartTime` (both RFC 2822); they decide,
bounded to a window before arrival so that a skewed or forged clock cannot reach far.
"""

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

# Twilio retries a delivery for minutes, not hours; nothing is reported from the future.
WINDOW = timedelta(hours=1)
STATUS_TIME = "Timestamp"  # a call's status callback
RECORDING_TIME = "RecordingStartTime"  # a recording's status callback


def reported_at(raw: str | None, *, arrival: datetime) -> datetime:
    """The event time `raw` names, clamped to [arrival - WINDOW, arrival]; else arrival."""
    moment = _parsed(raw)
    if moment is None:
        return arrival
    return min(max(moment, arrival - WINDOW), arrival)


def _parsed(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        moment = parsedate_to_datetime(raw.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)  # RFC 2822's "-0000": UTC, origin unknown
    return moment.astimezone(UTC)
