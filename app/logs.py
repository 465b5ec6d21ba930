"""Logging set-up, with phone numbers masked in every record at INFO and above."""

import logging
import re

from app.phones import mask

# `+` and 7 to 15 digits (spaces, dashes allowed), or a bare run of 10 to 15 digits;
# never inside a word, so SIDs such as CA0123456789... stay readable.
_NUMBER = re.compile(r"(?<![\w+])(?:\+\d(?:[\s\-.]?\d){6,14}|\d{10,15})(?!\w)")
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class MaskPhoneNumbers(logging.Filter):
    """Replace anything that looks like a phone number, so none reaches the logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.INFO:
            message = record.getMessage()
            masked = _NUMBER.sub(lambda match: mask(re.sub(r"[^\d+]", "", match[0])), message)
            if masked != message:
                record.msg, record.args = masked, None
        return True


def configure_logging(level: int = logging.INFO) -> None:
    """Send logs to stderr once, through the masking filter (uvicorn's loggers too)."""
    root = logging.getLogger()
    if any(isinstance(f, MaskPhoneNumbers) for h in root.handlers for f in h.filters):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.addFilter(MaskPhoneNumbers())
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
