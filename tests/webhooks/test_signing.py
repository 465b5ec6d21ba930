"""Standard Webhooks signatures, checked against the specification's test vector."""

import pytest

from app.webhooks.signing import InvalidSignature, headers, key_of, new_secret, sign, verify

# The test vector of the Standard Webhooks specification (and its reference libraries).
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MESSAGE_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_specification_test_vector_signs_as_published() -> None:
    assert sign(SECRET, message_id=MESSAGE_ID, timestamp=TIMESTAMP, body=BODY) == SIGNATURE


def test_signed_headers_verify() -> None:
    signed = headers(SECRET, message_id=MESSAGE_ID, timestamp=TIMESTAMP, body=BODY)
    assert signed["webhook-signature"] == SIGNATURE
    verify(SECRET, received=signed, body=BODY, now=TIMESTAMP + 10)


@pytest.mark.parametrize(
    ("body", "now", "secret"),
    [
        (b'{"test": 2432232315}', TIMESTAMP, SECRET),  # a changed body
        (BODY, TIMESTAMP + 301, SECRET),  # too old: a replay
        (BODY, TIMESTAMP - 301, SECRET),  # from the future
        (BODY, TIMESTAMP, "whsec_" + "A" * 43 + "="),  # another secret
    ],
    ids=["changed-body", "replayed", "from-the-future", "another-secret"],
)
def test_anything_else_fails_verification(body: bytes, now: int, secret: str) -> None:
    signed = headers(SECRET, message_id=MESSAGE_ID, timestamp=TIMESTAMP, body=BODY)
    with pytest.raises(InvalidSignature):
        verify(secret, received=signed, body=body, now=now)


def test_one_of_several_signatures_is_enough() -> None:
    """Receivers accept a space-separated list (secret rotation sends two)."""
    signed = {"webhook-id": MESSAGE_ID, "webhook-timestamp": str(TIMESTAMP)}
    signed["webhook-signature"] = f"v1,bm90IGl0 {SIGNATURE}"
    verify(SECRET, received=signed, body=BODY, now=TIMESTAMP)


def test_new_secrets_are_whsec_and_32_random_bytes() -> None:
    first, second = new_secret(), new_secret()
    assert first.startswith("whsec_") and first != second
    assert len(key_of(first)) == 32


@pytest.mark.parametrize("bad", ["whsec_", "whsec_not base64!", "whsec_@@@@"])
def test_a_secret_that_is_not_base64_is_refused_not_read_leniently(bad: str) -> None:
    with pytest.raises(ValueError):
        key_of(bad)
