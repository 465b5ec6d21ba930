"""The background loops' rhythm: pass after pass, a poll apart, until told to stop."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress


async def pass_after_pass(
    run_once: Callable[[], Awaitable[object]],
    *,
    stop: asyncio.Event,
    poll: float,
    log: logging.Logger,
    what: str,
) -> None:
    """Run `run_once` every `poll` seconds until `stop` is set; a failed pass is logged and
    the next one retries (the database may be away)."""
    while not stop.is_set():
        try:
            await run_once()
        except Exception as exc:
            # The name only: SQL errors quote their parameters, phone numbers among them.
            log.error("%s pass failed (%s); again in %s s", what, type(exc).__name__, poll)
            log.debug("%s pass failed", what, exc_info=True)
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), poll)
