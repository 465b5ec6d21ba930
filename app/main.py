"""The FastAPI application: routers, lifespan, error handlers."""

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI

from app import api, web
from app.api.auth import ApiAuth
from app.clock import Clock
from app.config import Settings
from app.errors import install_error_handlers
from app.http import health
from app.http.limits import BodySizeLimit
from app.http.openapi import install_openapi
from app.http.twilio_route import TwilioWebhooks
from app.logs import configure_logging
from app.outbox.lock import single_worker
from app.outbox.worker import Worker
from app.runtime import Runtime
from app.sms import routes as sms
from app.voice import routes as voice


def create_app(
    settings: Settings, *, clock: Clock | None = None, run_worker: bool = False
) -> FastAPI:
    """Build the service for `settings`; the database engine (and the worker, if asked
    for) start with the lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            runtime = Runtime.start(settings, clock)
            stack.push_async_callback(runtime.stop)
            app.state.runtime = runtime
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
async def _running(worker: Worker) -> AsyncIterator[None]:
    """The worker as a background task of the service, stopped cleanly at shutdown."""
    task = asyncio.create_task(worker.run(), name="callpledge-worker")
    try:
        yield
    finally:
        worker.stop()
        await task
