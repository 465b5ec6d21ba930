"""Phone numbers: E.164 as the contract reads them, withheld callers, masking."""

import pytest

from app.phones import InvalidNumber, caller_number, for_people, is_withheld, mask, to_e164


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("+447700900123", "US", "+447700900123"),  # fiction range: possible, not valid
        ("07700 900123", "GB", "+447700900123"),
        ("447700900123", "GB", "+447700900123"),
        ("0044 7700 900123", "GB", "+447700900123"),
        ("(415) 555-0100", "US", "+14155550100"),
        ("415.555.0100", "US", "+14155550100"),
        ("+1 415 555 0100", "GB", "+14155550100"),
        ("  +33 6 12 34 56 78 ", "US", "+33612345678"),
        ("030 1234567", "DE", "+49301234567"),
        ("+61 491 570 156", "US", "+61491570156"),
    ],
)
def test_numbers_are_normalised_to_e164(raw: str, region: str, e164: str) -> None:
    assert to_e164(raw, region) == e164


@pytest.mark.parametrize("raw", ["", "12", "hello", "+", "+999 1234", "1" * 80, "+44 77"])
def test_impossible_numbers_are_refused(raw: str) -> None:
    with pytest.raises(InvalidNumber):
        to_e164(raw, "GB")


@pytest.mark.parametrize(
    "raw",
    [
        "anonymous",
        "Anonymous",
        "RESTRICTED",
        "unknown",
        "private",
        "unavailable",
        "",
        "  ",
        "+266696687",
        "+7378742833",
        "+2562533",
        "+8656696",
        "+86282452253",
        " 266696687",
    ],
)
def test_withheld_callers_are_recognised_before_parsing(raw: str) -> None:
    assert is_withheld(raw)
    assert caller_number(raw, "US") is None


def test_a_real_number_is_not_withheld() -> None:
    assert not is_withheld("+14155550100")
    assert caller_number("+14155550100", "GB") == "+14155550100"


def test_numbers_are_formatted_for_people() -> None:
    assert for_people("+447700900123") == "+44 7700 900123"
    assert for_people("+14155550100") == "+1 415-555-0100"


def test_masking_keeps_only_the_prefix_and_last_digits() -> None:
    assert mask("+447700900123") == "+44********23"
    assert mask(None) == "withheld"
    assert "7700900" not in mask("+447700900123")


def test_an_e164_number_is_kept_digit_for_digit_when_it_is_possible() -> None:
    assert to_e164("+200000000000", "US") == "+200000000000"
    assert to_e164("+20 0000000000", "US") == to_e164("+20000000000", "US") == "+20000000000"
    assert to_e164("+4407700900123", "US") == "+447700900123"
