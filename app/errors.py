"""One error hierarchy, one JSON shape: `{"error": "<code>", "detail": ...}` for every failure."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from app.db import database_problem, is_connection_problem

log = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: str
    detail: str | list[dict[str, Any]]


class AppError(Exception):
    """An error the service answers on purpose; a subclass names its status and code:
    `class NotFound(AppError, status=404, code="not_found")`."""

    status_code = 400
    code = "bad_request"
    headers: dict[str, str] | None = None

    def __init_subclass__(
        cls,
        *,
        status: int | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init_subclass__(**kwargs)
        cls.status_code = status or cls.status_code
        cls.code = code or cls.code
        cls.headers = headers or cls.headers

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def body(self) -> str | list[dict[str, Any]]:
        """What goes into the response's `detail`."""
        return self.detail


class NotFound(AppError, status=404, code="not_found"):
    pass


class Conflict(AppError, status=409, code="conflict"):
    pass


class InvalidInput(AppError, status=422, code="validation_error"):
    """Input that is well-formed but cannot be used; the message says what to change.

    Naming the `field` (and where it came from) answers with the same list of field errors
    as FastAPI's own validation, so clients read one 422 shape.
    """

    def __init__(self, detail: str, *, field: str | None = None, location: str = "body") -> None:
        super().__init__(detail)
        self.field = field
        self.location = location

    def body(self) -> str | list[dict[str, Any]]:
        if self.field is None:
            return self.detail
        return [{"loc": [self.location, self.field], "msg": self.detail, "type": "value_error"}]


class Unauthorized(
    AppError, status=401, code="unauthorized", headers={"WWW-Authenticate": "Bearer"}
):
    pass


class Forbidden(AppError, status=403, code="forbidden"):
    pass


class Unavailable(AppError, status=503, code="unavailable", headers={"Retry-After": "5"}):
    pass


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    503: "unavailable",
}


# What a database that is away (or not what the code expects) raises: answered 503.
DATABASE_ERRORS = (OperationalError, InterfaceError, PoolTimeoutError, ConnectionError)
_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def error_response(
    status_code: int, code: str, detail: Any, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail}, status_code, headers=headers)


async def _app_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return error_response(exc.status_code, exc.code, exc.body(), exc.headers)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:
        # FastAPI's answer to a body it cannot decode; to clients it is one more bad field.
        detail = [{"loc": ["body"], "msg": str(exc.detail), "type": "body_unreadable"}]
        return error_response(422, "validation_error", detail)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    headers = dict(exc.headers) if exc.headers else None
    if exc.status_code == 401:
        headers = (headers or {}) | {"WWW-Authenticate": "Bearer"}
    if exc.status_code == 405:
        headers = (headers or {}) | {"Allow": ", ".join(_allowed_methods(request))}
    return error_response(exc.status_code, code, str(exc.detail), headers)


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette names only the first route's)."""
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    ]


def field_errors(errors: Any) -> list[dict[str, Any]]:
    """Pydantic's errors without the offending input, which may be a secret or a number."""
    return [
        {"loc": list(error.get("loc", ())), "msg": error.get("msg", ""), "type": error.get("type")}
        for error in errors
    ]


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(422, "validation_error", field_errors(exc.errors()))


def log_database_error(where: str, exc: Exception) -> None:
    """A warning for an outage that passes, an error for anything else (a missing table, say:
    someone has to look)."""
    if is_connection_problem(exc):
        log.warning("database unavailable on %s: %s", where, type(exc).__name__)
    else:
        log.error("database error on %s: %s", where, database_problem(exc))


def database_unavailable(method: str, path: str, exc: Exception) -> JSONResponse:
    """The 503 for a database error, logged (`log_database_error`)."""
    log_database_error(f"{method} {path}", exc)
    return error_response(
        503, "unavailable", "the database cannot be reached; try again shortly", Unavailable.headers
    )


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    return database_unavailable(request.method, request.url.path, exc)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "an unexpected error occurred")


def install_error_handlers(app: FastAPI) -> None:
    """Give FastAPI's, Starlette's and our own errors the same JSON shape."""
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    for db_error in DATABASE_ERRORS:
        app.add_exception_handler(db_error, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected)
