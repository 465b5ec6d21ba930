"""The OpenAPI document: every response described, with examples and the real error shape."""

from typing import Any

import httpx
import pytest

ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}


@pytest.fixture
async def schema(client: httpx.AsyncClient) -> dict[str, Any]:
    return (await client.get("/openapi.json")).json()


def api_operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, operations in schema["paths"].items()
        if path.startswith("/api/v1/")
        for method, operation in operations.items()
    ]


async def test_every_api_operation_needs_the_bearer_scheme_and_documents_401(
    schema: dict[str, Any],
) -> None:
    assert schema["components"]["securitySchemes"]["HTTPBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "opaque",
        "description": "A token from `callpledge token create` or the API_TOKENS setting.",
    }
    operations = api_operations(schema)
    assert len(operations) == 21  # 12, and issue 16: 7 webhooks, export.csv, callers
    for path, method, operation in operations:
        assert operation["security"] == [{"HTTPBearer": []}], (method, path)
        unauthorized = operation["responses"]["401"]
        assert unauthorized["content"]["application/json"]["schema"] == ERROR_REF
        assert unauthorized["content"]["application/json"]["example"]["error"] == "unauthorized"
        assert "WWW-Authenticate" in unauthorized["headers"]


async def test_404_and_409_are_documented_where_they_happen(schema: dict[str, Any]) -> None:
    paths = schema["paths"]
    for path, method in [
        ("/api/v1/obligations/{obligation_id}", "get"),
        ("/api/v1/obligations/{obligation_id}/close", "post"),
        ("/api/v1/recruiters/{recruiter_id}", "delete"),
    ]:
        assert "404" in paths[path][method]["responses"]
    for path, method in [
        ("/api/v1/recruiters", "post"),
        ("/api/v1/recruiters/{recruiter_id}", "patch"),
        ("/api/v1/obligations/{obligation_id}/snooze", "post"),
        ("/api/v1/obligations/{obligation_id}/call", "post"),
    ]:
        conflict = paths[path][method]["responses"]["409"]
        assert conflict["content"]["application/json"]["schema"] == ERROR_REF


async def test_every_error_response_is_an_error_body_with_an_example(
    schema: dict[str, Any],
) -> None:
    for path, method, operation in api_operations(schema):
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                body = response["content"]["application/json"]
                assert body["schema"] == ERROR_REF, (method, path, status)
                assert {"error", "detail"} == set(body["example"])


async def test_response_bodies_carry_examples(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    for name in ("Obligation", "ObligationDetail", "Recruiter", "CallPage", "Stats"):
        assert components[name]["examples"], name
    created = schema["paths"]["/api/v1/recruiters"]["post"]["responses"]["201"]
    assert "Location" in created["headers"]


async def test_an_unreadable_body_is_a_422_in_the_error_shape(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/api/v1/recruiters", content=b"s;\xff", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"
    assert response.json()["detail"][0]["loc"] == ["body"]


async def test_405_names_every_method_of_the_path(api: httpx.AsyncClient) -> None:
    response = await api.put("/api/v1/recruiters/1")
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, GET, PATCH"
