"""Logs at INFO and above carry no phone number, in any spelling, and no query string."""

import logging
import sys
from typing import Any

import pytest

from app.logs import DropQueryStrings, MaskingFormatter


def rendered(message: str, *args: object, name: str = "app", exc_info: Any = None) -> str:
    record = logging.LogRecord(name, logging.INFO, __file__, 1, message, args or None, exc_info)
    DropQueryStrings().filter(record)
    return MaskingFormatter("%(message)s").format(record)


@pytest.mark.parametrize(
    "number",
    ["+447700900123", "+44 7700 900123", "+1 415-555-0100", "%2B447700900123", "4155550100"],
)
def test_numbers_are_masked_in_every_spelling(number: str) -> None:
    line = rendered("call from %s", number)
    assert "7700900" not in line.replace(" ", "") and "5550100" not in line.replace("-", "")


def test_sids_dates_and_small_ids_stay_readable() -> None:
    line = rendered("CA0123456789abcdef0123456789abcdef at 2026-01-05 10:00:00 obligation 1234567")
    assert line == "CA0123456789abcdef0123456789abcdef at 2026-01-05 10:00:00 obligation 1234567"


def test_access_log_lines_lose_their_query_string() -> None:
    line = rendered(
        '%s - "%s %s HTTP/%s" %d',
        "127.0.0.1:5000",
        "GET",
        "/api/v1/obligations?caller=%2B447700900123&cursor=abc",
        "1.1",
        200,
        name="uvicorn.access",
    )
    assert line == '127.0.0.1:5000 - "GET /api/v1/obligations HTTP/1.1" 200'


def test_numbers_in_a_traceback_are_masked_too() -> None:
    try:
        raise ValueError("duplicate key\nDETAIL:  Key (caller)=(+447700900123) already exists.")
    except ValueError:
        line = rendered("unhandled error on %s", "/twilio/voice/incoming", exc_info=sys.exc_info())
    assert "Traceback" in line and "Key (caller)=(" in line
    assert "7700900" not in line


def test_numbers_in_a_stack_are_masked_too() -> None:
    record = logging.LogRecord("app", logging.WARNING, __file__, 1, "stuck", None, None)
    record.stack_info = 'Stack (most recent call last):\n  send(to="+447700900123")'
    assert "7700900" not in MaskingFormatter("%(message)s").format(record)
