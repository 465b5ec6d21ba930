"""The service shell: health, the error shape for every failure, the body limit, 503s."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.config import Settings
from app.http.deps import SessionDep
from app.main import create_app
from app.migrate import upgrade
from tests.support.databases import TestDatabase
from tests.support.proxy import TcpProxy


def add_probe_routes(app: FastAPI) -> None:
    """Routes that exist only in these tests, to reach the shared machinery."""

    @app.get("/probe/db")
    async def probe_db(session: SessionDep) -> dict[str, Any]:
        return {"one": (await session.execute(text("SELECT 1"))).scalar_one()}

    @app.get("/probe/missing-table")
    async def probe_missing_table(session: SessionDep) -> None:
        await session.execute(text("SELECT * FROM nowhere"))

    @app.post("/probe/echo")
    async def probe_echo(item: dict[str, int]) -> dict[str, int]:
        return item


@pytest.fixture
def app(settings: Settings, clock: Any) -> FastAPI:
    application = create_app(settings, clock=clock)
    add_probe_routes(application)
    return application


async def test_healthz_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_checks_the_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert (response.status_code, response.json()) == (200, {"status": "ready"})


async def test_readyz_is_not_ready_until_the_schema_is_there(
    unmigrated: TestDatabase, clock: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """`serve --no-migrate` on a fresh database answers, but is not ready."""
    settings = Settings(_env_file=None, database_url=unmigrated.url)  # type: ignore[call-arg]
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            before = await client.get("/readyz")
            upgrade(unmigrated.url)
            after = await client.get("/readyz")
    assert before.status_code == 503
    assert before.json()["error"] == "unavailable"
    assert "callpledge db upgrade" in before.json()["detail"]
    assert "callpledge db upgrade" in caplog.text
    assert (after.status_code, after.json()) == (200, {"status": "ready"})


@pytest.mark.sqlite_only
async def test_a_database_error_that_is_no_outage_is_logged_as_an_error(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A missing table is a 503 to the client, but an ERROR for whoever runs the service."""
    response = await client.get("/probe/missing-table")
    assert response.status_code == 503
    assert response.json()["error"] == "unavailable"
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert errors and "no such table: nowhere" in errors[0].getMessage()


async def test_unknown_path_is_a_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/nowhere")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": "Not Found"}


async def test_wrong_method_is_a_json_405(client: httpx.AsyncClient) -> None:
    response = await client.delete("/healthz")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"
    assert "GET" in response.headers["allow"]


async def test_invalid_input_is_a_json_422_listing_fields(client: httpx.AsyncClient) -> None:
    response = await client.post("/probe/echo", json={"count": "many"})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "validation_error"
    assert body["detail"][0]["loc"] == ["body", "count"]
    assert "many" not in response.text  # the offending input is not echoed


async def test_an_oversized_body_is_a_json_413(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/probe/echo", content=b"x" * 70_000, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


async def test_a_body_that_lies_about_its_length_is_cut_off(client: httpx.AsyncClient) -> None:
    async def stream():  # chunked: no Content-Length to check up front
        for _ in range(100):
            yield b"x" * 1000

    response = await client.post(
        "/probe/echo", content=stream(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


async def test_openapi_describes_the_real_error_shape(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    assert "ErrorBody" in schema["components"]["schemas"]
    unprocessable = schema["paths"]["/probe/echo"]["post"]["responses"]["422"]
    assert unprocessable["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorBody"
    }


async def test_a_lost_database_is_a_503_and_the_service_recovers(
    database: TestDatabase, settings: Settings, clock: Any, tmp_path: Any
) -> None:
    """Cut the database away mid-run: 503 `unavailable`, then normal service without restart."""
    if database.backend == "postgresql":
        url = make_url(database.url)
        proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
        lost_url = url.set(port=proxy.port).render_as_string(hide_password=False)
        cut, restore = proxy.cut, proxy.restore
    else:
        folder = tmp_path / "moved"
        lost_url = f"sqlite:///{folder}/callpledge.db"
        cut = lambda: None  # noqa: E731 - the folder does not exist yet

        def restore() -> None:
            folder.mkdir()
            upgrade(lost_url)  # ready means the schema is there too

    app = create_app(settings.model_copy(update={"database_url": lost_url}), clock=clock)
    add_probe_routes(app)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            if database.backend == "postgresql":
                assert (await client.get("/probe/db")).status_code == 200
            cut()
            for path in ("/probe/db", "/readyz"):
                response = await client.get(path)
                assert response.status_code == 503, response.text
                assert response.json()["error"] == "unavailable"
            restore()
            assert (await client.get("/probe/db")).json() == {"one": 1}
            assert (await client.get("/readyz")).status_code == 200
