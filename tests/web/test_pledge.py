"""The public pledge record: opt-in figures per recruiter, and never a caller's details."""

import re
from datetime import timedelta
from typing import Any

import httpx

from app.clock import ManualClock
from app.models import CloseReason, Obligation, ObligationStatus, Recruiter, Voicemail
from tests.support.databases import TestDatabase
from tests.support.factories import T0, make_call, make_obligation, make_recruiter
from tests.web.conftest import ENV_TOKEN

CALLER, CALLER_NAME = "+447700900123", "Zelda Quincewhistle"
TRANSCRIPT = "please call me about my salary expectations"


def _returned(recruiter: Recruiter, minutes: int, **fields: Any) -> Obligation:
    opened = fields.pop("opened_at", T0 - timedelta(days=3))
    return make_obligation(
        recruiter,
        opened_at=opened,
        status=ObligationStatus.CLOSED,
        closed_at=opened + timedelta(minutes=minutes),
        close_reason=fields.pop("close_reason", CloseReason.CALLBACK),
        seconds_to_close=minutes * 60,
        **fields,
    )


def _seed(db: TestDatabase) -> Recruiter:
    """A public recruiter: 3 of 4 callers returned (10m, 20m, 1h), 2 of them within the
    promise and 1 late, and what must not count."""
    alice = make_recruiter(db, name="Alice Archer", slug="alice-archer", public_pledge=True)
    opened, H = T0 - timedelta(days=3), timedelta(hours=1)
    db.add(
        _returned(alice, 10, caller=CALLER, caller_name=CALLER_NAME, promised_by=opened + 4 * H),
        _returned(
            alice,
            20,
            caller="+447700900124",
            close_reason=CloseReason.ANSWERED,
            promised_by=opened + 4 * H,
        ),
        _returned(alice, 60, caller="+447700900125", promised_by=opened + H / 2),  # late
        make_obligation(alice, caller="+447700900126", caller_name=CALLER_NAME),
        # Not counted: closed by ops (counted as not returned), too old, withheld.
        _returned(alice, 5, caller="+447700900127", opened_at=T0 - timedelta(days=91)),
        make_obligation(alice, caller=None, opened_at=T0 - timedelta(days=1)),
    )
    opened = db.all(Obligation)
    db.add(
        Voicemail(
            recording_sid="RE" + "5" * 32,
            call_sid="CA" + "5" * 32,
            obligation_id=opened[0].id,
            transcript=TRANSCRIPT,
            created_at=T0,
            updated_at=T0,
        ),
        make_call(alice, "CA" + "5" * 32, from_number=CALLER, caller_name=CALLER_NAME),
    )
    return alice


async def test_the_record_shows_share_returned_and_median(
    client: httpx.AsyncClient, db: TestDatabase
) -> None:
    _seed(db)
    page = await client.get("/pledge/alice-archer")
    assert page.status_code == 200
    text = re.sub(r"\s+", " ", page.text)
    assert "Alice Archer" in text
    assert '<span class="big">75 %</span>' in text
    assert '<span class="big">20m</span>' in text
    assert '<span class="big">4</span><span>missed calls</span>' in text
    assert '<span class="big">67 %</span><span>returned within the promise</span>' in text
    badge = await client.get("/pledge/alice-archer/badge.svg")
    assert badge.headers["content-type"] == "image/svg+xml"
    assert badge.headers["cache-control"] == "public, max-age=300"
    assert "returns 75 % of calls · median 20m" in badge.text
    index = await client.get("/pledge")
    assert "Alice Archer" in index.text and "75 %" in index.text and "67 %" in index.text


async def test_no_caller_detail_ever_reaches_a_public_page(
    client: httpx.AsyncClient, db: TestDatabase
) -> None:
    alice = _seed(db)
    pages = [await client.get(p) for p in ("/pledge", "/pledge/alice-archer")]
    pages.append(await client.get("/pledge/alice-archer/badge.svg"))
    secrets = [CALLER, CALLER[1:], "7700 900123", "900123", "Zelda", "Quincewhistle", "salary"]
    secrets += [alice.mobile, alice.line, alice.mobile[-7:], alice.line[-7:]]
    for answer in pages:
        assert answer.status_code == 200
        leaked = [s for s in secrets if s.lower() in answer.text.lower()]
        assert not leaked, f"{answer.url} shows {leaked}"
        digits = re.findall(r"\d[\d ]{6,}\d", answer.text)
        assert not digits, f"{answer.url} shows number-like {digits}"


async def test_only_recruiters_who_opt_in_are_published(
    client: httpx.AsyncClient, db: TestDatabase
) -> None:
    make_recruiter(db, name="Private Pat", slug="pat", public_pledge=False)
    make_recruiter(db, name="Gone Gil", slug="gil", public_pledge=True, active=False)
    for slug in ("pat", "gil", "nobody"):
        assert (await client.get(f"/pledge/{slug}")).status_code == 404
        assert (await client.get(f"/pledge/{slug}/badge.svg")).status_code == 404
    index = await client.get("/pledge")
    assert "Pat" not in index.text and "Gil" not in index.text
    assert "No recruiter publishes a record yet" in index.text


async def test_a_record_with_no_missed_calls_says_so(
    client: httpx.AsyncClient, db: TestDatabase
) -> None:
    make_recruiter(db, name="New Nia", slug="nia", public_pledge=True)
    badge = await client.get("/pledge/nia/badge.svg")
    assert "no missed calls yet" in badge.text


async def test_the_api_and_cli_fields_publish_a_record(
    client: httpx.AsyncClient, db: TestDatabase
) -> None:
    headers = {"Authorization": f"Bearer {ENV_TOKEN}"}
    body = {"name": "Alice", "mobile": "+447700900100", "line": "+15005550006"}
    made = await client.post(
        "/api/v1/recruiters", json=body | {"public_pledge": True, "slug": "alice"}, headers=headers
    )
    assert made.status_code == 201, made.text
    assert (made.json()["public_pledge"], made.json()["slug"]) == (True, "alice")
    clash = await client.post(
        "/api/v1/recruiters",
        json={"name": "B", "mobile": "+447700900101", "line": "+15005550007", "slug": "alice"},
        headers=headers,
    )
    assert clash.status_code == 409 and "slug alice already belongs to" in clash.json()["detail"]
    bad = await client.patch(
        f"/api/v1/recruiters/{made.json()['id']}", json={"slug": "Alice!"}, headers=headers
    )
    assert bad.status_code == 422
    assert (await client.get("/pledge/alice")).status_code == 200


async def test_figures_are_computed_at_most_once_a_minute(
    client: httpx.AsyncClient, db: TestDatabase, clock: ManualClock
) -> None:
    alice = make_recruiter(db, name="Alice Archer", slug="alice", public_pledge=True)
    assert "no missed calls yet" in (await client.get("/pledge/alice/badge.svg")).text
    db.add(_returned(alice, 20))
    clock.advance(timedelta(seconds=59))
    assert "no missed calls yet" in (await client.get("/pledge/alice/badge.svg")).text
    clock.advance(timedelta(seconds=2))
    assert "returns 100 % of calls" in (await client.get("/pledge/alice/badge.svg")).text


async def test_the_promise_share_counts_what_the_stats_count_kept_and_broken(
    client: httpx.AsyncClient, db: TestDatabase
) -> None:
    alice = _seed(db)
    db.add(make_obligation(alice, caller="+447700900128", promised_by=T0 - timedelta(hours=1)))
    since = (T0 - timedelta(days=90)).isoformat()
    stats = await client.get(
        "/api/v1/stats",
        params={"since": since, "until": T0.isoformat()},
        headers={"Authorization": f"Bearer {ENV_TOKEN}"},
    )
    by_id = {r["recruiter_id"]: r for r in stats.json()["by_recruiter"]}
    assert (by_id[alice.id]["kept"], by_id[alice.id]["broken"]) == (2, 2)  # + one still open

    text = re.sub(r"\s+", " ", (await client.get("/pledge/alice-archer")).text)
    assert '<span class="big">50 %</span><span>returned within the promise</span>' in text


async def test_a_record_without_a_decided_promise_shows_a_dash(
    client: httpx.AsyncClient, db: TestDatabase
) -> None:
    nia = make_recruiter(db, name="New Nia", slug="nia", public_pledge=True)
    db.add(make_obligation(nia, caller="+447700900129", promised_by=T0 + timedelta(hours=1)))
    text = re.sub(r"\s+", " ", (await client.get("/pledge/nia")).text)
    assert '<span class="big">–</span><span>returned within the promise</span>' in text
