"""The fake Twilio API, driven by the real twilio library, behaves like the parts we use."""

import threading

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from app.config import load_settings
from app.twilio.client import build_client
from tests.support.fake_twilio import FakeTwilio


@pytest.fixture
def twilio(fake_twilio: FakeTwilio) -> Client:
    settings = load_settings(
        _env_file=None,
        twilio_account_sid=fake_twilio.account_sid,
        twilio_auth_token=fake_twilio.auth_token,
        twilio_api_url=fake_twilio.base_url,
    )
    return build_client(settings)


def test_a_message_is_created_and_fetched(twilio: Client, fake_twilio: FakeTwilio) -> None:
    message = twilio.messages.create(
        to="+14155550100",
        from_="+15005550006",
        body="hello",
        status_callback="https://x.example/cb?outbox=1",
    )
    assert message.sid.startswith("SM") and message.status == "queued"
    assert twilio.messages(message.sid).fetch().body == "hello"
    recorded = fake_twilio.requests[0]
    assert (
        recorded.authorized and recorded.value("StatusCallback") == "https://x.example/cb?outbox=1"
    )


def test_messages_are_listed_with_filters_and_paging(
    twilio: Client, fake_twilio: FakeTwilio
) -> None:
    for n in range(7):
        twilio.messages.create(to="+14155550100", from_="+15005550006", body=f"m{n}")
    twilio.messages.create(to="+14155550199", from_="+15005550006", body="other")
    listed = twilio.messages.list(to="+14155550100", page_size=3)
    assert [m.body for m in listed] == [f"m{n}" for n in reversed(range(7))]
    assert sum(1 for r in fake_twilio.requests if r.method == "GET") == 3  # 3 + 3 + 1


def test_queued_messages_match_no_date_sent_filter(twilio: Client, fake_twilio: FakeTwilio) -> None:
    from datetime import UTC, datetime

    sent = twilio.messages.create(to="+14155550100", from_="+15005550006", body="sent")
    twilio.messages.create(to="+14155550100", from_="+15005550006", body="queued")
    fake_twilio.set_status("Messages", sent.sid, "delivered")
    today = datetime.now(UTC)
    assert [m.body for m in twilio.messages.list(date_sent=today)] == ["sent"]


def test_wrong_credentials_are_refused(fake_twilio: FakeTwilio) -> None:
    client = Client(fake_twilio.account_sid, "wrong")
    client.api.base_url = fake_twilio.base_url
    with pytest.raises(TwilioRestException) as caught:
        client.messages.create(to="+14155550100", from_="+15005550006", body="x")
    assert (caught.value.status, caught.value.code) == (401, 20003)


@pytest.mark.parametrize(("status", "code"), [(500, 20500), (429, 20429), (503, None)])
def test_failures_are_injected_on_demand(
    twilio: Client, fake_twilio: FakeTwilio, status: int, code: int | None
) -> None:
    fake_twilio.fail_next(status=status, code=code, path_contains="Messages")
    with pytest.raises(TwilioRestException) as caught:
        twilio.messages.create(to="+14155550100", from_="+15005550006", body="x")
    assert caught.value.status == status
    twilio.messages.create(to="+14155550100", from_="+15005550006", body="x")  # only once


def test_an_unsubscribed_recipient_fails_with_21610(
    twilio: Client, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.refuse("+14155550100", 21610)
    with pytest.raises(TwilioRestException) as caught:
        twilio.messages.create(to="+14155550100", from_="+15005550006", body="x")
    assert (caught.value.status, caught.value.code) == (400, 21610)
    assert fake_twilio.messages == []


def test_a_dropped_connection_and_a_down_server(twilio: Client, fake_twilio: FakeTwilio) -> None:
    fake_twilio.fail_next(drop=True)
    with pytest.raises(requests.ConnectionError):
        twilio.messages.create(to="+14155550100", from_="+15005550006", body="x")
    fake_twilio.down()
    with pytest.raises(requests.ConnectionError):
        twilio.messages.create(to="+14155550100", from_="+15005550006", body="x")
    fake_twilio.up()
    assert twilio.messages.create(to="+14155550100", from_="+15005550006", body="x").sid


def test_a_request_twilio_carried_out_can_lose_its_answer(
    twilio: Client, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.fail_next(accept=True, drop=True, method="POST")
    with pytest.raises(requests.ConnectionError):
        twilio.messages.create(to="+14155550100", from_="+15005550006", body="taken")
    assert [m["body"] for m in fake_twilio.messages] == ["taken"]


def test_a_stalled_answer_waits_for_release(twilio: Client, fake_twilio: FakeTwilio) -> None:
    fake_twilio.stall_next(method="POST")
    answers: list[str] = []
    sender = threading.Thread(
        target=lambda: answers.append(
            twilio.messages.create(to="+14155550100", from_="+15005550006", body="slow").sid
        )
    )
    sender.start()
    sender.join(timeout=0.3)
    assert sender.is_alive() and len(fake_twilio.messages) == 1  # taken, not yet answered
    fake_twilio.release()
    sender.join(timeout=5)
    assert answers == [fake_twilio.messages[0]["sid"]]


def test_calls_are_created_and_listed(twilio: Client, fake_twilio: FakeTwilio) -> None:
    call = twilio.calls.create(
        to="+14155550100",
        from_="+15005550006",
        url="https://x.example/twiml",
        status_callback="https://x.example/s",
    )
    assert call.sid.startswith("CA") and call.status == "queued"
    assert [c.sid for c in twilio.calls.list(to="+14155550100")] == [call.sid]


def test_phone_numbers_are_listed_and_updated(twilio: Client, fake_twilio: FakeTwilio) -> None:
    line = fake_twilio.add(
        "IncomingPhoneNumbers", phone_number="+15005550006", voice_url="https://old.example/voice"
    )
    found = twilio.incoming_phone_numbers.list(phone_number="+15005550006")
    assert [n.sid for n in found] == [line["sid"]]
    twilio.incoming_phone_numbers(line["sid"]).update(voice_url="https://new.example/voice")
    assert fake_twilio.all("IncomingPhoneNumbers")[0]["voice_url"] == "https://new.example/voice"
