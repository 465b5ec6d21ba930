"""Templates, the filters they use, and the headers every dashboard page carries."""

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import Response

from app.hours import zone
from app.phones import for_people

HERE = Path(__file__).parent
# Autoescaped: HTML pages and the SVG badge (Starlette's default leaves .svg unescaped).
TEMPLATES = Jinja2Templates(
    env=Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html", "svg"]),
        auto_reload=False,  # templates ship with the code: no stat() per render
    )
)
# Nothing inline, nothing from elsewhere: what a template injection could run is limited.
_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "media-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


@lru_cache(maxsize=4096)
def phone(number: str | None) -> str:
    """A number as people write it; a withheld caller says so."""
    return for_people(number) if number else "withheld"


def span(seconds: float | None) -> str:
    """`1h 12m`, `3d 4h`, `45s`: the two largest units of a duration."""
    if seconds is None:
        return "–"
    left = max(int(seconds), 0)
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, left = divmod(left, size)
        if count or (unit == "s" and not parts):
            parts.append(f"{count}{unit}")
    return " ".join(parts[:2])


def age(moment: datetime | None, now: datetime) -> str:
    return "–" if moment is None else span((now - moment).total_seconds())


def when(moment: datetime | None, timezone: str = "UTC") -> str:
    """`Mon 5 Jan 10:00 UTC`, in `timezone`."""
    if moment is None:
        return "–"
    local = moment.astimezone(zone(timezone))
    return f"{local:%a} {local.day} {local:%b %H:%M} {local.tzname()}"


def hhmm(moment: datetime | None, timezone: str = "UTC") -> str:
    """`14:30`, in `timezone`."""
    return "–" if moment is None else f"{moment.astimezone(zone(timezone)):%H:%M}"


def iso(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).isoformat()


for name, function in {
    "phone": phone,
    "span": span,
    "when": when,
    "hhmm": hhmm,
    "iso": iso,
}.items():
    TEMPLATES.env.filters[name] = function
TEMPLATES.env.globals["age"] = age
TEMPLATES.env.globals["timedelta"] = timedelta


def page(
    request: Request, template: str, context: dict[str, Any], *, status_code: int = 200
) -> Response:
    """A private dashboard page: never cached, never framed."""
    response = TEMPLATES.TemplateResponse(request, template, context, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = _CSP
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def public_page(request: Request, template: str, context: dict[str, Any]) -> Response:
    """A public pledge page: cacheable for a few minutes, and embeddable nowhere else."""
    response = TEMPLATES.TemplateResponse(request, template, context)
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Content-Security-Policy"] = _CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
