"""Logging set-up, with phone numbers masked in every line written at INFO and above."""

import logging
import re

from app.phones import mask

# `+` (or its URL encoding %2B) and 7 to 15 digits (spaces, dashes allowed), or a bare run
# of 10 to 15 digits; never inside a word, so SIDs such as CA0123456789... stay readable.
_NUMBER = re.compile(r"(?<![\w+])(?:(?:\+|%2[bB])\d(?:[\s\-.]?\d){6,14}|\d{10,15})(?!\w)")
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class MaskingFormatter(logging.Formatter):
    """Write the record, then replace anything that looks like a phone number in all of it:
    the message, and a traceback or stack too (exception texts, PostgreSQL's `DETAIL: Key
    (caller)=(+44…)` lines, uvicorn's own tracebacks)."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return _NUMBER.sub(_masked, text) if record.levelno >= logging.INFO else text


def _masked(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match[0].replace("%2B", "+").replace("%2b", "+"))
    return mask(f"+{digits}" if match[0].startswith(("+", "%")) else digits)


class DropQueryStrings(logging.Filter):
    """Access-log lines name the path only: queries carry callers, cursors and the like."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn.access: (client, method, path with query, HTTP version, status)
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], args[2].split("?", 1)[0], args[3], args[4])
        return True


def configure_logging(level: int = logging.INFO) -> None:
    """Send logs to stderr once, through the masking formatter (uvicorn's loggers too)."""
    root = logging.getLogger()
    if any(isinstance(h.formatter, MaskingFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(MaskingFormatter(_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.getLogger("uvicorn.access").addFilter(DropQueryStrings())
    # httpx logs every request with its URL at INFO: webhook receivers' URLs may hold tokens.
    logging.getLogger("httpx").setLevel(logging.WARNING)
