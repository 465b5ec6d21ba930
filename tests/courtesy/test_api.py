"""The promise in the ops API: fields, the overdue listing (keyset-paged through the partial
index on both databases), kept/broken stats, the overdue gauge, template validation."""

from datetime import datetime, timedelta
from itertools import count
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from app.cli.main import cli
from app.clock import ManualClock
from app.courtesy.opening import pending_batch
from app.courtesy.overdue import KIND, overdue_at, overdue_page
from app.models import CloseReason, Obligation, ObligationStatus, Recruiter
from app.paging import Position, encode_cursor
from tests.support.databases import TestDatabase, explain
from tests.support.factories import T0, make_obligation, make_recruiter

H = timedelta(hours=1)
_callers = count(1)


def promised(recruiter: Recruiter, by: datetime, **fields: Any) -> Obligation:
    return make_obligation(
        recruiter,
        opened_at=by - 4 * H,
        promised_by=by,
        caller=f"+4477009{next(_callers):05d}",
        **fields,
    )


def closed(recruiter: Recruiter, by: datetime, at: datetime, reason: CloseReason) -> Obligation:
    return promised(
        recruiter,
        by,
        status=ObligationStatus.CLOSED,
        closed_at=at,
        close_reason=reason,
        seconds_to_close=int((at - (by - 4 * H)).total_seconds()),
    )


async def test_an_obligation_shows_its_promise_and_whether_it_is_overdue(
    api: httpx.AsyncClient, db: TestDatabase, clock: ManualClock
) -> None:
    recruiter = make_recruiter(db)
    late, due = promised(recruiter, T0 - H), promised(recruiter, T0 + H)
    db.add(late, due)

    body = (await api.get(f"/api/v1/obligations/{late.id}")).json()
    assert (body["promised_by"], body["overdue"]) == ("2026-01-05T09:00:00Z", True)
    assert (await api.get(f"/api/v1/obligations/{due.id}")).json()["overdue"] is False
    clock.advance(2 * H)
    assert (await api.get(f"/api/v1/obligations/{due.id}")).json()["overdue"] is True


async def test_overdue_true_lists_open_obligations_past_their_promise_longest_first_in_pages(
    api: httpx.AsyncClient, db: TestDatabase
) -> None:
    recruiter = make_recruiter(db)
    overdue = [promised(recruiter, T0 - hours * H) for hours in (1, 5, 3, 3, 2)]
    db.add(
        *overdue,
        promised(recruiter, T0 + H),  # not yet due
        promised(recruiter, T0),  # due this instant: not past it
        closed(recruiter, T0 - 6 * H, T0 - 7 * H, CloseReason.CALLBACK),
        make_obligation(recruiter, caller="+447700911111"),  # no promise yet
    )
    expected = [o.id for o in sorted(overdue, key=lambda o: (o.promised_by, o.id))]

    seen, cursor, pages = [], None, 0
    while True:
        params: dict[str, Any] = {"overdue": "true", "limit": 2} | (
            {"cursor": cursor} if cursor else {}
        )
        page = (await api.get("/api/v1/obligations", params=params)).json()
        seen += [item["id"] for item in page["items"]]
        assert all(item["overdue"] for item in page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert (seen, pages) == (expected, 3)

    rest = (await api.get("/api/v1/obligations", params={"overdue": "false"})).json()
    assert not {item["id"] for item in rest["items"]} & set(expected)
    assert len(rest["items"]) == 4


async def test_an_overdue_cursor_is_refused_by_the_newest_first_listing(
    api: httpx.AsyncClient, db: TestDatabase
) -> None:
    recruiter = make_recruiter(db)
    db.add(*[promised(recruiter, T0 - hours * H) for hours in (1, 2)])
    page = (await api.get("/api/v1/obligations?overdue=true&limit=1")).json()

    response = await api.get("/api/v1/obligations", params={"cursor": page["next_cursor"]})
    assert response.status_code == 422


@pytest.mark.parametrize("cursor", [None, "later page"])
def test_the_overdue_page_reads_the_partial_index(db: TestDatabase, cursor: str | None) -> None:
    if cursor is not None:
        cursor = encode_cursor(KIND, Position(T0 - 3 * H, 7))
    page = overdue_page(select(Obligation), now=T0, cursor=cursor, limit=50)

    plan = explain(db, page)

    assert "ix_obligations_promised_open" in plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan  # read in the index's order


def test_the_overdue_count_reads_the_partial_index(db: TestDatabase) -> None:
    counted = select(func.count()).select_from(Obligation).where(*overdue_at(T0))

    assert "ix_obligations_promised_open" in explain(db, counted)


def test_the_promise_pass_reads_the_partial_index_on_pending_rows(db: TestDatabase) -> None:
    assert "ix_obligations_caller_text_pending" in explain(db, pending_batch())


async def test_stats_count_promises_kept_and_broken(
    api: httpx.AsyncClient, db: TestDatabase
) -> None:
    a, b = make_recruiter(db, name="A"), make_recruiter(db, name="B")
    db.add(
        closed(a, T0 - 2 * H, T0 - 3 * H, CloseReason.CALLBACK),  # kept
        closed(a, T0 - 2 * H, T0 - 2 * H, CloseReason.ANSWERED),  # kept, on the minute
        closed(a, T0 - 5 * H, T0 - 2 * H, CloseReason.CALLBACK),  # broken: called late
        promised(a, T0 - H),  # broken: still open past it
        closed(b, T0 - 2 * H, T0 - 3 * H, CloseReason.RECRUITER),  # DONE early: neither
        promised(b, T0 + H),  # not due yet: neither
    )

    body = (await api.get("/api/v1/stats", params={"until": "2026-01-05T10:00:00Z"})).json()

    assert (body["kept"], body["broken"], body["kept_ratio"]) == (2, 2, 0.5)
    by_id = {r["recruiter_id"]: r for r in body["by_recruiter"]}
    assert (by_id[a.id]["kept"], by_id[a.id]["broken"]) == (2, 2)
    assert (by_id[b.id]["kept"], by_id[b.id]["broken"], by_id[b.id]["kept_ratio"]) == (0, 0, None)


async def test_the_overdue_gauge_is_counted_at_scrape(
    client: httpx.AsyncClient, db: TestDatabase
) -> None:
    recruiter = make_recruiter(db)
    db.add(
        promised(recruiter, T0 - H), promised(recruiter, T0 - 2 * H), promised(recruiter, T0 + H)
    )

    metrics = (await client.get("/metrics")).text

    assert "callpledge_obligations_overdue 2.0" in metrics


@pytest.mark.parametrize(
    ("template", "named"),
    [("Hi {name}, {recruiter} here", "{name}"), ("{promise!r} {caller_name}", "{promise}")],
)
async def test_a_template_with_an_unknown_field_is_refused_naming_it(
    api: httpx.AsyncClient, template: str, named: str
) -> None:
    response = await api.post(
        "/api/v1/recruiters",
        json={
            "name": "Alice",
            "mobile": "+447700900001",
            "line": "+15005550006",
            "caller_text_template": template,
        },
    )
    assert response.status_code == 422
    assert named in str(response.json()["detail"])


async def test_a_recruiters_caller_text_settings_are_kept(api: httpx.AsyncClient) -> None:
    created = await api.post(
        "/api/v1/recruiters",
        json={"name": "Alice", "mobile": "+447700900001", "line": "+15005550006"},
    )
    assert (created.json()["caller_text"], created.json()["caller_text_template"]) == (True, None)
    changed = await api.patch(
        created.headers["Location"],
        json={"caller_text": False, "caller_text_template": "{recruiter} will call by {promise}"},
    )
    assert changed.status_code == 200
    assert changed.json()["caller_text"] is False


def test_the_cli_refuses_a_template_with_an_unknown_field(db: TestDatabase) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "recruiter", "add", "--name", "Alice", "--mobile", "07700 900001",
            "--line", "+15005550006", "--caller-text-template", "Hi {first_name}",
        ],
        env={"DATABASE_URL": db.url, "DEFAULT_REGION": "GB"},
    )  # fmt: skip
    assert result.exit_code == 1
    assert "{first_name}" in result.output
    assert db.count(Recruiter) == 0
