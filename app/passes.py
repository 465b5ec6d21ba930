"""The background loops' rhythm: pass after pass, a poll apart, until told to stop."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import TypeVar

T = TypeVar("T")
# Asked by a pass between units of work: once True, it claims nothing more and returns.
Stopping = Callable[[], bool]


async def pass_after_pass(
    run_once: Callable[[], Awaitable[T]],
    *,
    stop: asyncio.Event,
    poll: float,
    log: logging.Logger,
    what: str,
    again_at_once: Callable[[T], bool] | None = None,
) -> None:
    """Run `run_once` every `poll` seconds until `stop` is set, at once again after a pass
    `again_at_once` calls busy; a failed pass is logged and the next one retries (the
    database may be away)."""
    while not stop.is_set():
        try:
            done = await run_once()
            if again_at_once is not None and again_at_once(done):
                continue  # more may be waiting: go again at once
        except Exception as exc:
            # The name only: SQL errors quote their parameters, phone numbers among them.
            log.error("%s pass failed (%s); again in %s s", what, type(exc).__name__, poll)
            log.debug("%s pass failed", what, exc_info=True)
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), poll)
