"""SMS segments: how many parts a text costs in GSM-7 or, failing that, UCS-2."""

# GSM 03.38 basic character set (one septet each), without the escape code itself.
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each costs an escape septet plus its own.
_GSM_EXTENDED = frozenset("\f^{}\\[~]|€")
# Typographic characters that would force a whole message into UCS-2, and their GSM twins.
_GSM_TWINS = str.maketrans(
    {"‘": "'", "’": "'", "‚": "'", "“": '"', "”": '"', "„": '"', "–": "-", "—": "-"}
    | {"…": "...", "\u00a0": " ", "\t": " "}
)

_GSM_SINGLE, _GSM_PART = 160, 153  # septets: one-part message, part of a concatenated one
_UCS2_SINGLE, _UCS2_PART = 70, 67  # UTF-16 code units


def is_gsm7(text: str) -> bool:
    """Whether every character of `text` has a GSM-7 encoding."""
    return all(char in _GSM_BASIC or char in _GSM_EXTENDED for char in text)


def gsm_friendly(text: str) -> str:
    """`text` with curly quotes, dashes and ellipses made plain, so it can stay GSM-7."""
    return text.translate(_GSM_TWINS)


def segments(text: str) -> int:
    """How many SMS segments `text` is sent as."""
    if is_gsm7(text):
        units = [2 if char in _GSM_EXTENDED else 1 for char in text]
        single, part = _GSM_SINGLE, _GSM_PART
    else:
        units = [len(char.encode("utf-16-le")) // 2 for char in text]
        single, part = _UCS2_SINGLE, _UCS2_PART
    if sum(units) <= single:
        return 1
    # An escape pair or a surrogate pair is never split between two parts.
    count, used = 1, 0
    for size in units:
        if used + size > part:
            count, used = count + 1, 0
        used += size
    return count


def fits(text: str, most: int = 2) -> bool:
    """Whether `text` goes out in at most `most` segments."""
    return segments(text) <= most
