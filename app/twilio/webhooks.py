"""Incoming Twilio webhooks: the signature check and the signed form's parameters (no FastAPI)."""

import logging
from collections.abc import Mapping

from twilio.request_validator import RequestValidator

from app.errors import Forbidden, InvalidInput

log = logging.getLogger(__name__)
# The database's INTEGER: no count, duration or error code Twilio sends comes near it.
_INTEGER_MAX = 2**31 - 1
SID_MAX = 64  # Twilio's SIDs are 34 characters
NUMBER_MAX = 128  # phone numbers, client:/sip: addresses


class TwilioParams(Mapping[str, str]):
    """The parameters of a webhook whose signature checked out (first value of each)."""

    def __init__(self, values: dict[str, str], path: str) -> None:
        self._values = values
        self.path = path

    def __getitem__(self, name: str) -> str:
        return self._values[name]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def require(self, name: str, *, max_length: int | None = None) -> str:
        """The value of `name`, or a 422 that names the missing (or overlong) field."""
        value = self.optional(name, max_length=max_length)
        if value is None:
            log.warning("webhook %s lacks the field %s", self.path, name)
            raise InvalidInput(f"the field {name} is required")
        return value

    def optional(self, name: str, *, max_length: int | None = None) -> str | None:
        """The value of `name` (None when absent or blank), or a 422 when it is overlong."""
        value = self._values.get(name, "").strip()
        if max_length is not None and len(value) > max_length:
            log.warning("webhook %s has an overlong %s", self.path, name)
            raise InvalidInput(f"the field {name} is longer than {max_length} characters")
        return value or None

    def sid(self, name: str) -> str:
        """A required SID, or a 422 naming the missing or overlong field."""
        return self.require(name, max_length=SID_MAX)

    def optional_sid(self, name: str) -> str | None:
        return self.optional(name, max_length=SID_MAX)

    def number(self, name: str) -> str:
        """A number or address as sent ('' if absent), clipped to what the call log holds."""
        return self._values.get(name, "")[:NUMBER_MAX]

    def integer(self, name: str) -> int | None:
        """`name` as a whole number, or None when absent, unreadable or out of range."""
        try:
            value = int(self._values.get(name, ""))
        except ValueError:
            return None
        return value if 0 <= value <= _INTEGER_MAX else None


def signed_url(public_base_url: str, path: str, query: str) -> str:
    """The URL Twilio signed: the public base, the path and the raw query, never request.url."""
    return f"{public_base_url}{path}?{query}" if query else f"{public_base_url}{path}"


def verify_signature(
    validator: RequestValidator, url: str, form: Mapping[str, list[str]], signature: str | None
) -> None:
    """Raise Forbidden unless `signature` is Twilio's signature of `url` and `form`."""
    if not signature or not validator.validate(url, _MultiValues(form), signature):
        raise Forbidden("the X-Twilio-Signature header is missing or does not match")


def refuse_nul(values: Mapping[str, list[str]]) -> None:
    """A NUL character: Twilio never sends one, and PostgreSQL text cannot hold it."""
    for key, items in values.items():
        if "\x00" in key or any("\x00" in item for item in items):
            name = key.replace("\x00", "")
            raise InvalidInput(f"the field {name} contains a NUL character", field=name)


class _MultiValues(dict[str, list[str]]):
    """Lets RequestValidator see every value of a repeated parameter."""

    def getlist(self, key: str) -> list[str]:
        return self[key]
