"""The FastAPI application: routers, lifespan, error handlers."""

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from functools import partial

from fastapi import FastAPI

from app import api, db_driver, web
from app.api.auth import ApiAuth
from app.clock import Clock
from app.config import Settings
from app.errors import install_error_handlers
from app.http import health
from app.http.limits import BodySizeLimit
from app.http.openapi import install_openapi
from app.http.twilio_route import TwilioWebhooks
from app.logs import configure_logging
from app.obligations.miss_pg import COUNT_MISS
from app.outbox.lock import single_worker
from app.outbox.worker import Worker
from app.runtime import Runtime
from app.sms import routes as sms
from app.voice import routes as voice
from app.voice.status_pg import LOG_STATUS

log = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    run_worker: bool = False,
    warm_database: bool = False,
) -> FastAPI:
    """Build the service for `settings`; the database engine (and the worker, if asked
    for) start with the lifespan, and (`warm_database`) its hot statements' connections."""
    lifespan = partial(
        _lifespan,
        settings=settings,
        clock=clock,
        run_worker=run_worker,
        warm_database=warm_database,
    )
    configure_logging()
    app = FastAPI(
        title="callpledge",
        version="0.1.0",
        description="Every missed call becomes an obligation until it is returned.",
        lifespan=lifespan,
    )
    app.add_middleware(BodySizeLimit)
    # Added last, so outermost: a request without a token is refused before anything else.
    app.add_middleware(ApiAuth)
    # Outermost: the signed webhooks skip the middleware above and FastAPI's dependencies.
    app.add_middleware(TwilioWebhooks, routes=[*sms.router.routes, *voice.router.routes])
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(api.router)
    app.include_router(sms.router)
    app.include_router(voice.router)
    web.install(app)
    install_openapi(app)
    return app


@asynccontextmanager
async def _lifespan(
    app: FastAPI, *, settings: Settings, clock: Clock | None, run_worker: bool, warm_database: bool
) -> AsyncIterator[None]:
    """The runtime (and what `create_app` asked for with it) from startup to shutdown."""
    async with AsyncExitStack() as stack:
        runtime = Runtime.start(settings, clock)
        stack.push_async_callback(runtime.stop)
        app.state.runtime = runtime
        if warm_database:
            await stack.enter_async_context(_warming(runtime))
        if run_worker:
            stack.enter_context(single_worker(settings.database_url))
            await stack.enter_async_context(_running(Worker(runtime)))
        # Everything loaded so far lives as long as the process: out of the collector's
        # sight, full collections stop walking it (webhook p99 fell from ~95 to ~30 ms).
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()


@asynccontextmanager
async def _warming(runtime: Runtime) -> AsyncIterator[None]:
    """The driver's connections opened, and the misses' statements planned on them, while the
    service starts answering (on PostgreSQL): not by the first webhooks after a deploy."""
    direct = db_driver.driver_of(runtime.engine)
    if direct is None:
        yield
        return
    # All the driver keeps: a burst of webhooks after a deploy finds them ready.
    warming = asyncio.create_task(direct.warm([COUNT_MISS, LOG_STATUS]), name="warm-db")
    warming.add_done_callback(_warmed)
    try:
        yield
    finally:
        warming.cancel()
        await asyncio.wait([warming])  # its connections back in the driver before it closes


def _warmed(task: "asyncio.Task[None]") -> None:
    failure = None if task.cancelled() else task.exception()
    if failure is not None:
        # The first webhooks open their own; a database that is down is /readyz's to say.
        reason = str(getattr(failure, "orig", failure)).splitlines()[0]
        log.warning("could not open database connections ahead: %s", reason)


@asynccontextmanager
async def _running(worker: Worker) -> AsyncIterator[None]:
    """The worker as a background task of the service, stopped cleanly at shutdown."""
    task = asyncio.create_task(worker.run(), name="callpledge-worker")
    try:
        yield
    finally:
        worker.stop()
        await task
