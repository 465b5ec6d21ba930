"""Properties of webhook parameter handling: the signed form's values, the signature check,
and every /twilio route answering any signed form without a 5xx (both databases)."""

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from app.errors import Forbidden, InvalidInput
from app.twilio.webhooks import TwilioParams, signed_url, verify_signature
from tests.drills.webhooks import EXAMPLES, Ids, assert_error_shape, seed
from tests.support.databases import TestDatabase
from tests.support.signer import TwilioSigner

INTEGER_MAX = 2**31 - 1
NAMES = sorted({name for example in EXAMPLES.values() for name in example.params})
values = st.one_of(
    st.text(max_size=60),
    st.integers(-(2**40), 2**40).map(str),
    st.text(alphabet="0123456789 +-_.e", max_size=30),
)
forms = st.dictionaries(st.one_of(st.sampled_from(NAMES), st.text(max_size=12)), values, max_size=8)


@settings(max_examples=500)
@given(values)
def test_an_integer_field_is_a_database_integer_or_none(text: str) -> None:
    number = TwilioParams({"N": text}, "/p").integer("N")
    assert number is None or 0 <= number <= INTEGER_MAX


@settings(max_examples=200)
@given(st.integers(0, INTEGER_MAX), st.text(alphabet=" \t", max_size=2))
def test_an_integer_in_range_reads_back(number: int, padding: str) -> None:
    assert TwilioParams({"N": f"{padding}{number}{padding}"}, "/p").integer("N") == number


@settings(max_examples=500)
@given(values, st.integers(1, 64))
def test_a_required_field_is_its_trimmed_value_or_a_422(text: str, longest: int) -> None:
    params = TwilioParams({"Name": text}, "/p")
    try:
        value = params.require("Name", max_length=longest)
    except InvalidInput as error:
        assert "Name" in str(error)
        return
    assert value == text.strip() and value and len(value) <= longest


@settings(max_examples=300)
@given(forms, st.text(alphabet="abcdefghij/-_", min_size=1, max_size=20))
def test_twilios_signature_verifies_and_any_changed_value_does_not(
    form: dict[str, str], path: str
) -> None:
    validator = RequestValidator("property-token")
    url = signed_url("https://callpledge.example.com", f"/{path}", "")
    signature = validator.compute_signature(url, form)
    multi = {key: [value] for key, value in form.items()}
    verify_signature(validator, url, multi, signature)
    for key in form:
        changed = multi | {key: [form[key] + "x"]}
        with pytest.raises(Forbidden):
            verify_signature(validator, url, changed, signature)
    with pytest.raises(Forbidden):
        verify_signature(validator, url + "x", multi, signature)


@pytest.fixture
def ids(db: TestDatabase) -> Ids:
    """Rows the examples name, seeded once for all of a test's examples."""
    return seed(db)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.sampled_from(sorted(EXAMPLES)), forms, st.lists(st.sampled_from(NAMES), max_size=3))
async def test_any_signed_form_on_any_route_is_answered_without_a_5xx(
    client: httpx.AsyncClient,
    signer: TwilioSigner,
    ids: Ids,
    route: str,
    changes: dict[str, str],
    dropped: list[str],
) -> None:
    path, params = ids.fill(EXAMPLES[route])
    form = {k: v for k, v in (params | changes).items() if k not in dropped}
    response = await client.post(path, data=form, headers=signer.headers(path, form))
    assert response.status_code < 500, (response.status_code, response.text[:300])
    event(f"answered {response.status_code}")
    if response.status_code >= 400:
        assert_error_shape(response)
