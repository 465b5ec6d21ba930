"""Properties of the phone parser, over whatever text a webhook or an operator may send."""

import re

import phonenumbers
from hypothesis import example, given, settings
from hypothesis import strategies as st

from app.phones import (
    WITHHELD_PLACEHOLDERS,
    WITHHELD_WORDS,
    InvalidNumber,
    caller_number,
    for_people,
    is_withheld,
    to_e164,
)

E164 = re.compile(r"\+[1-9][0-9]{1,19}")
REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
COUNTRY_CODES = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
# Digits as people, carriers and keyboards write them: ASCII, fullwidth, Arabic-Indic.
DIGITS = "0123456789０１２３４５６７８９٠١٢٣٤٥٦٧٨٩"
SPACES = " \t\r\n\u00a0\u2003"

regions = st.one_of(st.sampled_from(REGIONS), st.text(max_size=3))
phone_like = st.text(alphabet=DIGITS + "+-() ./xX#*,;ext", max_size=40)
international = st.builds(
    lambda code, rest: f"+{code}{rest}",
    st.sampled_from(COUNTRY_CODES),
    st.text(alphabet="0123456789 -", min_size=3, max_size=16),
)
raw_numbers = st.one_of(st.text(max_size=80), phone_like, international)


@settings(max_examples=600)
@given(raw_numbers, regions)
@example("+447700900123", "US")
@example("07700 900123", "GB")
@example("+４４７７００９００１２３", "US")
@example("1" * 65, "US")
def test_to_e164_answers_e164_or_invalid_number_and_nothing_else(raw: str, region: str) -> None:
    try:
        number = to_e164(raw, region)
    except InvalidNumber:
        return
    assert E164.fullmatch(number), number


@settings(max_examples=400)
@given(st.one_of(phone_like, international), st.sampled_from(REGIONS), st.sampled_from(REGIONS))
@example("+20 0000000000", "EG", "US")  # phonenumbers took a 0 off at every reading
@example("+4407700900123", "GB", "US")  # a national prefix after the country code goes
@example("+39 06 1234 5678", "IT", "GB")  # Italy's leading zero stays
def test_a_normalised_number_normalises_to_itself_in_any_region(
    raw: str, region: str, other_region: str
) -> None:
    try:
        number = to_e164(raw, region)
    except InvalidNumber:
        return
    assert to_e164(number, region) == number
    assert to_e164(number, other_region) == number
    assert for_people(number).replace(" ", "").replace("-", "")  # formats without raising


def _cased(word: str, upper: list[bool]) -> str:
    flags = upper + [False] * len(word)
    return "".join(c.upper() if u else c for c, u in zip(word, flags[: len(word)], strict=True))


@settings(max_examples=300)
@given(
    st.sampled_from(sorted(WITHHELD_WORDS)),
    st.lists(st.booleans(), max_size=12),
    st.text(alphabet=SPACES, max_size=3),
    st.text(alphabet=SPACES, max_size=3),
    st.sampled_from(REGIONS),
)
def test_a_withheld_word_is_recognised_in_any_case_and_padding(
    word: str, upper: list[bool], before: str, after: str, region: str
) -> None:
    text = f"{before}{_cased(word, upper)}{after}"
    assert is_withheld(text)
    assert caller_number(text, region) is None


@settings(max_examples=200)
@given(
    st.sampled_from(sorted(WITHHELD_PLACEHOLDERS)),
    st.sampled_from(["keep", "drop", "space"]),  # `+` as sent, lost, or decoded to a space
    st.text(alphabet=" ", max_size=2),
    st.sampled_from(REGIONS),
)
def test_twilio_placeholders_are_withheld_however_the_plus_arrives(
    placeholder: str, plus: str, padding: str, region: str
) -> None:
    digits = placeholder[1:]
    text = {"keep": placeholder, "drop": digits, "space": f" {digits}"}[plus] + padding
    assert is_withheld(text)
    assert caller_number(text, region) is None


@settings(max_examples=400)
@given(raw_numbers, regions)
def test_caller_number_never_raises_and_never_answers_a_withheld_caller(
    raw: str, region: str
) -> None:
    number = caller_number(raw, region)
    assert number is None or (E164.fullmatch(number) and not is_withheld(number))
