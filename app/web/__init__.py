"""Server-rendered pages: the ops dashboard (/dashboard) and the public pledge record (/pledge)."""

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from app.web import auth, dashboard, pledge, recruiters, stats
from app.web.render import HERE

router = APIRouter()
for part in (auth.router, dashboard.router, recruiters.router, stats.router, pledge.router):
    router.include_router(part)


def install(app: FastAPI) -> None:
    """Add the pages, their static files, and the redirect to sign in."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_exception_handler(auth.SignInRequired, auth.to_sign_in)
