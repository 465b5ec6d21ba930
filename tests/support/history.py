"""Past calls in the fake Twilio account, shaped as Twilio's Calls, Recordings and
Transcriptions resources hold them after the calls ended."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime

from app.simulator.exchange import new_sid
from tests.support.fake_twilio import FakeTwilio

RING_SECONDS = 20  # CALL_TIMEOUT_SECONDS
GREETING_SECONDS = 8


def rfc2822(moment: datetime) -> str:
    return format_datetime(moment)


@dataclass
class Account:
    """Writes past calls into the fake account, as Twilio would have recorded them."""

    fake: FakeTwilio

    def call(
        self,
        *,
        caller: str,
        line: str,
        at: datetime,
        seconds: int,
        status: str = "completed",
        caller_name: str | None = None,
    ) -> str:
        """An inbound call to `line` (the parent call)."""
        ended = at + timedelta(seconds=seconds) if status == "completed" else None
        return self._call(
            direction="inbound", caller=caller, to=line, at=at, ended=ended, status=status,
            caller_name=caller_name, parent=None,
        )  # fmt: skip

    def leg(
        self, parent: str, *, caller: str, mobile: str, at: datetime, seconds: int, status: str
    ) -> str:
        """The `<Dial>` leg of `parent` to the recruiter's mobile."""
        return self._call(
            direction="outbound-dial", caller=caller, to=mobile, at=at,
            ended=at + timedelta(seconds=seconds), status=status, caller_name=None, parent=parent,
        )  # fmt: skip

    def recording(self, call_sid: str, *, at: datetime, seconds: int = 12) -> str:
        sid = new_sid("RE")
        self.fake.add(
            "Recordings",
            sid=sid,
            call_sid=call_sid,
            status="completed",
            duration=str(seconds),
            source="RecordVerb",
            channels=1,
            error_code=None,
            date_created=rfc2822(at),
            start_time=rfc2822(at - timedelta(seconds=seconds)),
            media_url=f"https://api.twilio.com/2010-04-01/Accounts/{self.fake.account_sid}"
            f"/Recordings/{sid}",
        )
        return sid

    def transcription(self, recording_sid: str, text: str, *, at: datetime) -> str:
        return str(
            self.fake.add(
                "Transcriptions",
                recording_sid=recording_sid,
                status="completed",
                transcription_text=text,
                type="fast",
                date_created=rfc2822(at),
            )["sid"]
        )

    def unanswered(
        self, *, caller: str, line: str, mobile: str, at: datetime, leg_status: str = "no-answer"
    ) -> str:
        """The forward flow rang the mobile in vain; the caller hung up at the greeting."""
        sid = self.call(caller=caller, line=line, at=at, seconds=RING_SECONDS + 3)
        self.leg(sid, caller=caller, mobile=mobile, at=at, seconds=RING_SECONDS, status=leg_status)
        return sid

    def _call(
        self,
        *,
        direction: str,
        caller: str,
        to: str,
        at: datetime,
        ended: datetime | None,
        status: str,
        caller_name: str | None,
        parent: str | None,
    ) -> str:
        record = self.fake.add(
            "Calls",
            sid=new_sid("CA"),
            direction=direction,
            parent_call_sid=parent,
            status=status,
            to=to,
            caller_name=caller_name,
            start_time=rfc2822(at),
            end_time=rfc2822(ended) if ended else None,
            duration=str(int((ended - at).total_seconds())) if ended else None,
            date_created=rfc2822(at),
            **{"from": caller},
        )
        return str(record["sid"])
