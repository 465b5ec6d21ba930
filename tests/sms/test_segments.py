"""SMS segments: GSM-7 with its extension table, UCS-2 with surrogate pairs."""

import pytest

from app.sms.segments import fits, gsm_friendly, is_gsm7, segments


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # an extension character costs two septets
        ("€" * 81, 2),
        ("a" * 152 + "€" + "a" * 152, 3),  # the escape pair is not split across parts
        ("a" * 151 + "€" + "a" * 153, 2),
        ("é" * 160, 1),  # é is in the GSM basic table
        ("ê" * 70, 1),  # ê is not: the whole text is UCS-2
        ("ê" * 71, 2),
        ("ê" * 134, 2),
        ("ê" * 135, 3),
        ("😀" * 35, 1),  # a surrogate pair: two UTF-16 units
        ("a" + "😀" * 33 + "😀" * 33, 2),
        ("a" * 66 + "😀" + "a" * 66, 3),  # the pair is not split either
    ],
)
def test_segments_are_counted_as_handsets_count_them(text: str, expected: int) -> None:
    assert segments(text) == expected


def test_one_character_outside_gsm_makes_the_whole_text_ucs2() -> None:
    text = "a" * 134
    assert fits(text) and not fits(text + "…" + "a" * 10)
    assert is_gsm7("Reply DONE 12, SNOOZE 12 2h [or] {CALL} 12 €")
    assert not is_gsm7("`backtick`")


def test_typographic_characters_are_made_plain() -> None:
    assert gsm_friendly("It’s “fine” – really…") == 'It\'s "fine" - really...'
    assert is_gsm7(gsm_friendly("It’s “fine” – really…"))
