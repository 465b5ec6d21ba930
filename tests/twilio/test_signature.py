"""The one-pass signature check agrees with twilio-python's RequestValidator."""

from urllib.parse import urlparse

from hypothesis import given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator, add_port, remove_port

from app.twilio.signature import SignatureCheck

TOKEN = "signature-property-token"
_text = st.text(max_size=12)
params = st.dictionaries(_text, st.lists(_text, min_size=1, max_size=3), max_size=6)
urls = st.builds(
    lambda scheme, host, port, path, query: f"{scheme}://{host}{port}{path}{query}",
    st.sampled_from(["http", "https"]),
    st.sampled_from(["callpledge.example.com", "127.0.0.1", "[::1]", "a.b"]),
    st.one_of(st.just(""), st.integers(1, 65535).map(lambda port: f":{port}")),
    st.text(alphabet="abc/-_.%~é", max_size=20).map(lambda path: "/" + path),
    st.one_of(st.just(""), st.text(alphabet="ab=&?%#;é", max_size=15).map(lambda q: "?" + q)),
)


class _MultiValues(dict[str, list[str]]):
    def getlist(self, key: str) -> list[str]:
        return self[key]


def signatures_worth_trying(url: str, form: dict[str, list[str]]) -> list[str]:
    """Twilio's signature of the URL as given, with and without a port, and wrong ones."""
    validator = RequestValidator(TOKEN)
    parsed = urlparse(url)
    variants = [url, add_port(parsed), remove_port(parsed)]
    signed = [validator.compute_signature(u, _MultiValues(form)) for u in variants]
    return [*signed, "", "x", signed[0][:-1] + "A", signed[0] + "é", "\ud800"]


@settings(max_examples=400, deadline=None)
@given(urls, params)
def test_the_check_accepts_exactly_what_request_validator_accepts(
    url: str, form: dict[str, list[str]]
) -> None:
    check = SignatureCheck(TOKEN)
    validator = RequestValidator(TOKEN)
    for signature in signatures_worth_trying(url, form):
        expected = validator.validate(url, _MultiValues(form), signature)
        assert check.valid(url, form, signature) is expected, (url, form, signature)


@settings(max_examples=300, deadline=None)
@given(urls, params)
def test_the_signature_is_request_validators(url: str, form: dict[str, list[str]]) -> None:
    expected = RequestValidator(TOKEN).compute_signature(url, _MultiValues(form))
    assert SignatureCheck(TOKEN).signature(url, form) == expected


def test_a_signature_for_the_port_twilio_adds_or_strips_is_accepted() -> None:
    check = SignatureCheck(TOKEN)
    validator = RequestValidator(TOKEN)
    form = {"CallSid": ["CA1"], "From": ["+447700900123"]}
    with_port = validator.compute_signature("https://x.example.com:443/a?b=1", _MultiValues(form))
    without_port = validator.compute_signature("https://x.example.com/a?b=1", _MultiValues(form))
    assert check.valid("https://x.example.com/a?b=1", form, with_port)
    assert check.valid("https://x.example.com:443/a?b=1", form, without_port)
    assert not check.valid("https://x.example.com/a?b=2", form, with_port)
    assert not check.valid("https://x.example.com/a?b=1", form | {"To": ["+1"]}, with_port)
