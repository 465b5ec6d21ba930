"""Phone numbers: E.164 normalisation, withheld callers, formatting for people and logs."""

import re

import phonenumbers

# What carriers and Twilio put in `From` when the caller hides their number.
WITHHELD_WORDS = frozenset({"", "anonymous", "restricted", "unknown", "private", "unavailable"})
WITHHELD_PLACEHOLDERS = frozenset(
    {"+266696687", "+7378742833", "+2562533", "+8656696", "+86282452253"}
)
_MAX_INPUT = 64
# phonenumbers' longest: a 3-digit country code and a 17-digit national number.
_E164 = re.compile(r"\+[1-9][0-9]{1,19}")


class InvalidNumber(ValueError):
    """The text is not a possible phone number."""


def is_withheld(raw: str | None) -> bool:
    """True when `raw` is how a withheld caller shows up (checked before any parsing)."""
    text = (raw or "").strip()
    if text.lower() in WITHHELD_WORDS:
        return True
    # `+` arrives as a space when a client forgets to URL-encode it.
    compact = text.replace(" ", "")
    return compact in WITHHELD_PLACEHOLDERS or f"+{compact}" in WITHHELD_PLACEHOLDERS


def to_e164(raw: str, region: str) -> str:
    """Normalise `raw` to E.164, reading numbers without `+` in `region`."""
    text = raw.strip()
    if not text or len(text) > _MAX_INPUT:
        raise InvalidNumber(f"{_shorten(text)!r} is not a phone number")
    number = _as_written(text)
    if number is None:
        try:
            number = phonenumbers.parse(text, region.upper())
        except phonenumbers.NumberParseException as exc:
            raise InvalidNumber(f"{_shorten(text)!r} is not a phone number") from exc
    # `possible`, not `valid`: range data lags real allocations (and the fiction ranges).
    if not phonenumbers.is_possible_number(number):
        raise InvalidNumber(f"{_shorten(text)!r} is not a possible phone number")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def _as_written(text: str) -> phonenumbers.PhoneNumber | None:
    """An E.164 number taken digit for digit, when that is a possible number.

    phonenumbers strips what looks like a national prefix even after a country code
    (`+20 0…` → `+20 …`): right for `+44 (0)7700…` typed by a person, wrong for the E.164
    that Twilio sends and that we store, which would change each time it is read again.
    """
    if not _E164.fullmatch(text):
        return None
    digits = text[1:]
    size = next(
        (n for n in (1, 2, 3) if int(digits[:n]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE), 0
    )
    national = digits[size:]
    if not size or not national:
        return None
    zeros = min(len(national) - len(national.lstrip("0")), len(national) - 1)
    number = phonenumbers.PhoneNumber(
        country_code=int(digits[:size]),
        national_number=int(national),
        italian_leading_zero=zeros > 0 or None,
        number_of_leading_zeros=zeros if zeros > 1 else None,
    )
    return number if phonenumbers.is_possible_number(number) else None


def caller_number(raw: str | None, region: str) -> str | None:
    """The caller's E.164 number, or None when withheld or unreadable."""
    if raw is None or is_withheld(raw):
        return None
    try:
        return to_e164(raw, region)
    except InvalidNumber:
        return None


def for_people(e164: str) -> str:
    """Format an E.164 number the way people write it (`+44 7700 900123`)."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL))


def mask(number: str | None) -> str:
    """Hide all but the country prefix and the last two digits, for logs."""
    if not number:
        return "withheld"
    if len(number) <= 6:
        return "*" * len(number)
    return f"{number[:3]}{'*' * (len(number) - 5)}{number[-2:]}"


def _shorten(text: str) -> str:
    return text if len(text) <= 24 else f"{text[:21]}..."
