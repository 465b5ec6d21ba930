"""/metrics: Prometheus text, work gauges read from the database at scrape time, no numbers."""

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.models import OutboxItem, OutboxKind, OutboxStatus
from tests.support.databases import TestDatabase
from tests.support.factories import T0, make_obligation, make_recruiter

API_TOKEN = "metrics-test-token-of-enough-length"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"api_tokens": API_TOKEN}


def outbox(key: str, status: OutboxStatus, due: timedelta) -> OutboxItem:
    return OutboxItem(
        kind=OutboxKind.SMS,
        purpose="nudge",
        idempotency_key=key,
        to_number="+447700900123",
        body="Missed call from +44 7700 900123",
        status=status,
        attempts=0,
        next_attempt_at=T0 + due,
        created_at=T0,
        updated_at=T0,
    )


def samples(text: str) -> dict[str, float]:
    return {
        sample.name + str(sorted(sample.labels.items()) or ""): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def scrape(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_backlog_and_lag_come_from_the_database(
    client: httpx.AsyncClient, db: TestDatabase
) -> None:
    recruiter = make_recruiter(db)
    db.add(
        make_obligation(recruiter, next_reminder_at=T0 - timedelta(minutes=5)),
        make_obligation(
            recruiter, caller="+447700900124", next_reminder_at=T0 + timedelta(hours=1)
        ),
        outbox("a", OutboxStatus.PENDING, -timedelta(minutes=2)),
        outbox("b", OutboxStatus.PENDING, timedelta(minutes=10)),
        outbox("c", OutboxStatus.SENDING, -timedelta(hours=1)),
        outbox("d", OutboxStatus.SENT, -timedelta(hours=2)),
    )
    values = samples(await scrape(client))
    assert values["callpledge_outbox_backlog"] == 3
    assert values["callpledge_worker_lag_seconds"] == 300


async def test_lag_is_zero_when_nothing_is_due(client: httpx.AsyncClient, db: TestDatabase) -> None:
    db.add(outbox("later", OutboxStatus.PENDING, timedelta(minutes=1)))
    values = samples(await scrape(client))
    assert (values["callpledge_outbox_backlog"], values["callpledge_worker_lag_seconds"]) == (1, 0)


async def test_an_ops_close_is_counted_by_reason(
    client: httpx.AsyncClient, db: TestDatabase
) -> None:
    db.add(make_obligation(make_recruiter(db)))
    key = "callpledge_obligations_closed_total[('reason', 'ops')]"
    before = samples(await scrape(client)).get(key, 0)
    response = await client.post(
        "/api/v1/obligations/1/close", headers={"Authorization": f"Bearer {API_TOKEN}"}
    )
    assert response.status_code == 200
    assert samples(await scrape(client))[key] == before + 1


async def test_metrics_name_every_family_and_never_a_phone_number(
    client: httpx.AsyncClient, db: TestDatabase
) -> None:
    db.add(make_obligation(make_recruiter(db), next_reminder_at=T0))
    text = await scrape(client)
    for family in (
        "callpledge_webhooks_total",
        "callpledge_obligations_opened_total",
        "callpledge_obligations_closed_total",
        "callpledge_nudges_total",
        "callpledge_outbox_backlog",
        "callpledge_worker_lag_seconds",
    ):
        assert f"# TYPE {family.removesuffix('_total')}" in text
    # Our families only: process and GC figures are plain numbers that may contain any digits.
    ours = [line for line in text.splitlines() if line.startswith("callpledge_")]
    assert ours and not any(re.search(r"\+\d{6,}|7700900", line) for line in ours)
