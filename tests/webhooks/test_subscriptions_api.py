"""/api/v1/webhooks: subscriptions, their secret shown once, and bad input refused clearly."""

from typing import Any

import httpx
import pytest

from tests.webhooks.conftest import Subscribe

HTTPS = "https://ats.example.com/callpledge/hook"


async def test_a_subscription_is_created_with_its_secret_shown_once(
    api: httpx.AsyncClient,
) -> None:
    created = await api.post(
        "/api/v1/webhooks", json={"url": HTTPS, "event_types": ["obligation.closed"]}
    )
    assert created.status_code == 201
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert body["enabled"] is True and body["event_types"] == ["obligation.closed"]
    listed = (await api.get("/api/v1/webhooks")).json()
    assert [hook["url"] for hook in listed] == [HTTPS]
    assert "secret" not in listed[0]
    assert "secret" not in (await api.get(f"/api/v1/webhooks/{body['id']}")).json()


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://ats.example.com/hook", "https://"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://[fe80::1]/hook", "link-local"),
        ("https://metadata.google.internal/computeMetadata", "metadata"),
        ("https://user:pass@ats.example.com/hook", "user name"),
        ("https://ats.example.com/hook#part", "fragment"),
        ("ftp://ats.example.com/hook", "https://"),
        ("https://", "https://"),
        ("https://ats.example.com:99999/", "not a URL"),
    ],
)
async def test_a_url_that_may_not_receive_events_is_refused_saying_why(
    api: httpx.AsyncClient, url: str, says: str
) -> None:
    response = await api.post(
        "/api/v1/webhooks", json={"url": url, "event_types": ["obligation.opened"]}
    )
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail[0]["loc"] == ["body", "url"] and says in detail[0]["msg"]
    assert (await api.get("/api/v1/webhooks")).json() == []


async def test_http_on_loopback_is_allowed(api: httpx.AsyncClient) -> None:
    for url in ("http://127.0.0.1:9000/hook", "http://localhost/hook", "http://[::1]/hook"):
        response = await api.post(
            "/api/v1/webhooks", json={"url": url, "event_types": ["obligation.opened"]}
        )
        assert response.status_code == 201, url


@pytest.mark.parametrize("types", [["obligation.opened", "obligation.exploded"], []])
async def test_unknown_or_no_event_types_are_refused(
    api: httpx.AsyncClient, types: list[str]
) -> None:
    response = await api.post("/api/v1/webhooks", json={"url": HTTPS, "event_types": types})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "event_types"]


async def test_a_subscription_is_disabled_enabled_changed_and_removed(
    api: httpx.AsyncClient, subscribe: Subscribe
) -> None:
    hook = await subscribe("obligation.opened")
    path = f"/api/v1/webhooks/{hook['id']}"
    disabled = (await api.patch(path, json={"enabled": False})).json()
    assert disabled["enabled"] is False and disabled["disabled_reason"]
    enabled = (await api.patch(path, json={"enabled": True, "event_types": ["nudge.sent"]})).json()
    assert enabled["enabled"] is True and enabled["disabled_reason"] is None
    assert enabled["event_types"] == ["nudge.sent"]
    refused = await api.patch(path, json={"url": "http://ats.example.com/"})
    assert refused.status_code == 422
    assert (await api.delete(path)).status_code == 204
    assert (await api.get(path)).status_code == 404
    assert (await api.delete(path)).status_code == 404


async def test_webhooks_need_a_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/webhooks")
    assert response.status_code == 401


class TestInsecureAllowed:
    @pytest.fixture
    def settings_overrides(self, settings_overrides: dict[str, Any]) -> dict[str, Any]:
        return settings_overrides | {"allow_insecure_webhooks": True}

    async def test_allow_insecure_webhooks_lets_http_through_but_not_metadata(
        self, api: httpx.AsyncClient
    ) -> None:
        ok = await api.post(
            "/api/v1/webhooks",
            json={"url": "http://ats.internal/hook", "event_types": ["obligation.opened"]},
        )
        assert ok.status_code == 201
        refused = await api.post(
            "/api/v1/webhooks",
            json={"url": "http://169.254.169.254/", "event_types": ["obligation.opened"]},
        )
        assert refused.status_code == 422
