"""The FastAPI application: routers, lifespan, error handlers."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app import health, voice
from app.clock import Clock
from app.config import Settings
from app.errors import install_error_handlers
from app.limits import BodySizeLimit
from app.logs import configure_logging
from app.openapi import install_openapi
from app.runtime import Runtime


def create_app(settings: Settings, *, clock: Clock | None = None) -> FastAPI:
    """Build the service for `settings`; the database engine opens with the lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime.start(settings, clock)
        app.state.runtime = runtime
        try:
            yield
        finally:
            await runtime.stop()

    configure_logging()
    app = FastAPI(
        title="callpledge",
        version="0.1.0",
        description="Every missed call becomes an obligation until it is returned.",
        lifespan=lifespan,
    )
    app.add_middleware(BodySizeLimit)
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(voice.router)
    install_openapi(app)
    return app
