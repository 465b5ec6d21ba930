"""The OpenAPI document, with the service's real error shape instead of FastAPI's default."""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.errors import ErrorBody

_ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
_DESCRIPTIONS = {
    "401": "Missing or invalid bearer token",
    "404": "Not found",
    "409": "Conflict with the current state",
    "413": "Request body too large",
    "422": "Invalid input; `detail` lists the fields",
    "503": "Database unavailable",
}


def _error_response(status: str) -> dict[str, Any]:
    return {
        "description": _DESCRIPTIONS.get(status, "Error"),
        "content": {"application/json": {"schema": _ERROR_REF}},
    }


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """Generate the schema once, replacing every 422 body with ErrorBody."""
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
            for status in list(responses):
                if status.startswith(("4", "5")):
                    responses[status] = _error_response(status)
    app.openapi_schema = schema
    return schema


def install_openapi(app: FastAPI) -> None:
    app.openapi = lambda: build_openapi(app)  # type: ignore[method-assign]
