"""What counts as missed in Twilio's records, and reading those records page by page."""

from datetime import UTC, datetime, timedelta

import pytest

from app.config import Settings
from app.reconcile.restore import Miss, miss_of
from app.twilio.client import build_client
from app.twilio.history import CallHistory, PastCall
from tests.support.fake_twilio import FakeTwilio
from tests.support.history import Account

T = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
LINE, MOBILE = "+15005550006", "+14155550100"


def past(*, direction: str, status: str, ends_after: int | None, parent: str | None) -> PastCall:
    return PastCall(
        sid="CA" + "0" * 32,
        parent_sid=parent,
        direction=direction,
        from_number="+447700900123",
        to_number=MOBILE if parent else LINE,
        status=status,
        caller_name=None,
        started_at=T,
        ended_at=None if ends_after is None else T + timedelta(seconds=ends_after),
        duration_seconds=ends_after,
    )


def call(ends_after: int = 60) -> PastCall:
    return past(direction="inbound", status="completed", ends_after=ends_after, parent=None)


def leg(status: str, ends_after: int | None, direction: str = "outbound-dial") -> PastCall:
    return past(direction=direction, status=status, ends_after=ends_after, parent="CA1")


@pytest.mark.parametrize(
    ("legs", "expected"),
    [
        pytest.param([], Miss.NOT_FORWARDED, id="never forwarded"),
        pytest.param(
            [leg("completed", 60, "outbound-api")], Miss.NOT_FORWARDED, id="not a dial leg"
        ),
        pytest.param([leg("no-answer", None)], Miss.UNANSWERED, id="mobile did not answer"),
        pytest.param([leg("busy", None), leg("failed", None)], Miss.UNANSWERED, id="busy, failed"),
        pytest.param([leg("completed", 60)], None, id="bridged: ends with the call"),
        pytest.param([leg("completed", 58)], None, id="bridged: the Dial action's round trip"),
        pytest.param([leg("completed", 50)], Miss.SCREENED_OUT, id="hung up by the screen"),
        pytest.param(
            [leg("no-answer", None), leg("completed", 60)], None, id="a second leg took it"
        ),
    ],
)
def test_what_twilios_records_say_about_a_call(legs: list[PastCall], expected: Miss | None) -> None:
    assert miss_of(call(), legs=legs) == expected


@pytest.fixture
def history(fake_twilio: FakeTwilio) -> CallHistory:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        twilio_account_sid=fake_twilio.account_sid,
        twilio_auth_token=fake_twilio.auth_token,
        twilio_api_url=fake_twilio.base_url,
    )
    return CallHistory(build_client(settings), page_size=2)


def test_every_page_of_calls_and_recordings_is_read(
    history: CallHistory, fake_twilio: FakeTwilio
) -> None:
    account = Account(fake_twilio)
    sids = [account.call(caller="+447700900123", line=LINE, at=T + timedelta(minutes=n), seconds=9)
            for n in range(5)]  # fmt: skip
    recordings = [account.recording(sid, at=T + timedelta(minutes=10)) for sid in sids]

    assert [c.sid for c in history.inbound_calls(line=LINE, since=T)] == sids
    assert {sid: [r.sid for r in found] for sid, found in history.recordings(since=T).items()} == {
        sid: [recording] for sid, recording in zip(sids, recordings, strict=True)
    }
    pages = [r for r in fake_twilio.requests if r.path.endswith("/Calls.json")]
    assert len(pages) == 3


def test_a_window_is_kept_to_the_second_though_twilio_filters_by_day(
    history: CallHistory, fake_twilio: FakeTwilio
) -> None:
    account = Account(fake_twilio)
    account.call(caller="+447700900123", line=LINE, at=T - timedelta(seconds=1), seconds=9)
    later = account.call(caller="+447700900124", line=LINE, at=T, seconds=9)
    leg_sid = account.leg(later, caller="+447700900124", mobile=MOBILE, at=T, seconds=5,
                          status="no-answer")  # fmt: skip

    assert [c.sid for c in history.inbound_calls(line=LINE, since=T)] == [later]
    assert [leg.sid for leg in history.legs(later)] == [leg_sid]


def test_a_completed_transcription_is_preferred(
    history: CallHistory, fake_twilio: FakeTwilio
) -> None:
    account = Account(fake_twilio)
    sid = account.call(caller="+447700900123", line=LINE, at=T, seconds=30)
    recording = account.recording(sid, at=T)
    assert history.transcript(recording) is None
    fake_twilio.add(
        "Transcriptions",
        recording_sid=recording,
        status="failed",
        date_created="Mon, 05 Jan 2026 10:01:00 +0000",
    )
    account.transcription(recording, "Call me back", at=T)
    found = history.transcript(recording)
    assert found is not None and (found.status, found.text) == ("completed", "Call me back")
