"""The OpenAPI document, with the service's real error shape instead of FastAPI's default."""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.errors import ErrorBody

_ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
_ERRORS: dict[str, tuple[str, dict[str, Any]]] = {
    "401": (
        "Missing or invalid bearer token",
        {"error": "unauthorized", "detail": "send Authorization: Bearer <token>"},
    ),
    "404": ("Not found", {"error": "not_found", "detail": "obligation 123 does not exist"}),
    "409": (
        "Conflict with the current state",
        {"error": "conflict", "detail": "obligation 123 is closed"},
    ),
    "413": (
        "Request body too large",
        {"error": "payload_too_large", "detail": "the request body is larger than 65536 bytes"},
    ),
    "422": (
        "Invalid input; `detail` lists the fields",
        {
            "error": "validation_error",
            "detail": [
                {
                    "loc": ["query", "limit"],
                    "msg": "Input should be less than or equal to 200",
                    "type": "less_than_equal",
                }
            ],
        },
    ),
    "503": (
        "Database unavailable",
        {"error": "unavailable", "detail": "the database cannot be reached; try again shortly"},
    ),
}
_HEADERS = {
    "401": {"WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}}},
    "503": {"Retry-After": {"description": "seconds", "schema": {"type": "string"}}},
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Error responses for a route's `responses=`; the document gives them ErrorBody."""
    return {status: {"model": ErrorBody} for status in statuses}


def _error_response(status: str) -> dict[str, Any]:
    description, example = _ERRORS.get(status, ("Error", {"error": "...", "detail": "..."}))
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": _ERROR_REF, "example": example}},
    }
    if status in _HEADERS:
        response["headers"] = _HEADERS[status]
    return response


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """Generate the schema once: every error is an ErrorBody with an example."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, routes=app.routes, description=app.description
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    components["ErrorBody"] = ErrorBody.model_json_schema(
        ref_template="#/components/schemas/{model}"
    )
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if "requestBody" in operation:
                responses.setdefault("413", {})
            for status in list(responses):
                if status.startswith(("4", "5")):
                    responses[status] = _error_response(status)
    app.openapi_schema = schema
    return schema


def install_openapi(app: FastAPI) -> None:
    app.openapi = lambda: build_openapi(app)  # type: ignore[method-assign]
