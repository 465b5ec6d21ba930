"""What Twilio's account holds about past calls: calls, their dial legs, recordings, transcripts.

Read through the twilio library (blocking: run it off any event loop), page by page
(`next_page_uri`), and turned into plain values so nothing else touches twilio's classes.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from twilio.rest import Client

_PAGE_SIZE = 200


@dataclass(frozen=True)
class PastCall:
    """One call, or one leg of a call, as Twilio's Calls resource shows it."""

    sid: str
    parent_sid: str | None
    direction: str
    from_number: str
    to_number: str
    status: str
    caller_name: str | None
    started_at: datetime | None
    ended_at: datetime | None
    duration_seconds: int | None


@dataclass(frozen=True)
class Recording:
    """A recording, as Twilio reports it: by its status callback, or in the account's history."""

    sid: str
    call_sid: str
    status: str
    url: str | None
    duration_seconds: int | None
    created_at: datetime
    error_code: str | None


@dataclass(frozen=True)
class PastTranscript:
    recording_sid: str
    status: str
    text: str | None
    created_at: datetime


class CallHistory:
    """Reads the account's call history; every method makes one or more REST requests."""

    def __init__(self, client: Client, *, page_size: int = _PAGE_SIZE) -> None:
        self._client = client
        self._page_size = page_size

    def inbound_calls(self, *, line: str, since: datetime) -> list[PastCall]:
        """Calls made to `line` that started at `since` or later, oldest first."""
        calls = self._client.calls.stream(
            to=line, start_time_after=since, page_size=self._page_size
        )
        found = [_call(c) for c in calls]
        # The filter may be read as a whole day: keep exactly the window.
        kept = [
            c
            for c in found
            if c.direction == "inbound" and c.parent_sid is None and _at_or_after(c, since)
        ]
        return sorted(kept, key=lambda c: (c.started_at or since, c.sid))

    def legs(self, call_sid: str) -> list[PastCall]:
        """The calls `call_sid` spawned (its `<Dial>` legs)."""
        legs = self._client.calls.stream(parent_call_sid=call_sid, page_size=self._page_size)
        return [_call(leg) for leg in legs]

    def recordings(self, *, since: datetime) -> dict[str, list[Recording]]:
        """The account's recordings made at `since` or later, by the CallSid they belong to."""
        recordings = self._client.recordings.stream(
            date_created_after=since, page_size=self._page_size
        )
        by_call: dict[str, list[Recording]] = defaultdict(list)
        for recording in recordings:
            if recording.call_sid and recording.date_created >= since:
                by_call[recording.call_sid].append(self._recording(recording))
        return dict(by_call)

    def transcript(self, recording_sid: str) -> PastTranscript | None:
        """The recording's finished transcription (completed or failed), if it has one."""
        transcriptions = self._client.recordings(recording_sid).transcriptions.list(limit=20)
        finished = [t for t in transcriptions if t.status in ("completed", "failed")]
        completed = [t for t in finished if t.status == "completed"]
        chosen = (completed or finished or [None])[0]
        if chosen is None:
            return None
        return PastTranscript(
            recording_sid=recording_sid,
            status=str(chosen.status),
            text=chosen.transcription_text,
            created_at=chosen.date_created,
        )

    def _recording(self, recording: Any) -> Recording:
        return Recording(
            sid=recording.sid,
            call_sid=recording.call_sid,
            status=str(recording.status),
            url=recording.media_url or self._media_url(recording.uri),
            duration_seconds=_seconds(recording.duration),
            created_at=recording.date_created,
            error_code=str(recording.error_code) if recording.error_code else None,
        )

    def _media_url(self, uri: str) -> str:
        return f"{self._client.api.base_url}{uri.removesuffix('.json')}"


def _call(call: Any) -> PastCall:
    return PastCall(
        sid=call.sid,
        parent_sid=call.parent_call_sid or None,
        direction=str(call.direction or ""),
        from_number=call._from or "",
        to_number=call.to or "",
        status=str(call.status or ""),
        caller_name=call.caller_name or None,
        started_at=call.start_time,
        ended_at=call.end_time,
        duration_seconds=_seconds(call.duration),
    )


def _at_or_after(call: PastCall, since: datetime) -> bool:
    return call.started_at is not None and call.started_at >= since


def _seconds(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None
