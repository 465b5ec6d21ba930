"""Recruiters in the dashboard: the same rules and messages as the API."""

from datetime import UTC, datetime, timedelta

import httpx

from app.models import CloseReason, Obligation, Recruiter
from tests.support.databases import TestDatabase
from tests.support.factories import make_obligation, make_recruiter
from tests.web.conftest import ENV_TOKEN, post_form

PAGE = "/dashboard/recruiters"
ALICE = {"name": "Alice Archer", "mobile": "07700 900100", "line": "+15005550006"}


async def test_adding_a_recruiter_reads_numbers_as_the_api_does(
    ops: httpx.AsyncClient, db: TestDatabase
) -> None:
    answer = await post_form(ops, PAGE, PAGE, ALICE | {"any_time": "on"})
    assert answer.status_code == 303
    alice = db.one(Recruiter)
    assert (alice.mobile, alice.line, alice.working_hours) == ("+447700900100", ALICE["line"], None)
    assert "Alice Archer" in (await ops.get(PAGE)).text


async def test_a_line_in_use_is_refused_with_the_apis_message(
    ops: httpx.AsyncClient, db: TestDatabase
) -> None:
    taken = make_recruiter(db, name="Bea", line="+15005550006")
    page = await post_form(ops, PAGE, PAGE, ALICE | {"any_time": "on"})
    api = await ops.post(
        "/api/v1/recruiters", json=ALICE, headers={"Authorization": f"Bearer {ENV_TOKEN}"}
    )
    assert page.status_code == api.status_code == 409
    message = api.json()["detail"]
    assert message == f"line +15005550006 already belongs to active recruiter {taken.id} (Bea)"
    assert message in page.text
    assert 'value="Alice Archer"' in page.text  # what was typed stays in the form


async def test_editing_working_hours(ops: httpx.AsyncClient, db: TestDatabase) -> None:
    alice = make_recruiter(db)
    edit = f"{PAGE}/{alice.id}"
    form = {"name": alice.name, "mobile": alice.mobile, "line": alice.line, "timezone": "UTC"}
    hours = {"hours_mon": "09:00-12:00, 13:00-17:30", "hours_fri": "09:00-15:00"}
    answer = await post_form(ops, edit, edit, form | hours)
    assert answer.status_code == 303
    saved = db.one(Recruiter)
    assert saved.working_hours == {
        "mon": [["09:00", "12:00"], ["13:00", "17:30"]],
        "fri": [["09:00", "15:00"]],
    }
    assert 'value="09:00-12:00, 13:00-17:30"' in (await ops.get(edit)).text


async def test_bad_working_hours_say_what_to_write(
    ops: httpx.AsyncClient, db: TestDatabase
) -> None:
    alice = make_recruiter(db)
    edit = f"{PAGE}/{alice.id}"
    form = {"name": alice.name, "mobile": alice.mobile, "line": alice.line}
    unreadable = await post_form(ops, edit, edit, form | {"hours_tue": "nine to five"})
    assert unreadable.status_code == 422
    assert "working_hours.tue: write ranges like 09:00-12:00, 13:00-17:30" in unreadable.text
    backwards = await post_form(ops, edit, edit, form | {"hours_tue": "17:00-09:00"})
    assert backwards.status_code == 422 and "working_hours.tue" in backwards.text
    assert db.one(Recruiter).working_hours is None


async def test_publishing_needs_a_well_formed_unique_slug(
    ops: httpx.AsyncClient, db: TestDatabase
) -> None:
    make_recruiter(db, slug="alice", public_pledge=True)
    bea = make_recruiter(db)
    edit = f"{PAGE}/{bea.id}"
    form = {"name": bea.name, "mobile": bea.mobile, "line": bea.line, "any_time": "on"}
    bad = await post_form(ops, edit, edit, form | {"slug": "Not A Slug"})
    assert bad.status_code == 422 and "slug must be 2-60 lower-case letters" in bad.text
    taken = await post_form(ops, edit, edit, form | {"slug": "alice"})
    assert taken.status_code == 409 and "slug alice already belongs to" in taken.text
    fine = await post_form(ops, edit, edit, form | {"slug": "bea", "public_pledge": "on"})
    assert fine.status_code == 303
    saved = db.one(Recruiter, Recruiter.id == bea.id)
    assert (saved.slug, saved.public_pledge) == ("bea", True)


async def test_deactivating_a_recruiter(ops: httpx.AsyncClient, db: TestDatabase) -> None:
    alice = make_recruiter(db)
    answer = await post_form(ops, PAGE, f"{PAGE}/{alice.id}/deactivate")
    assert answer.status_code == 303
    assert db.one(Recruiter).active is False
    assert "deactivated" in (await ops.get(PAGE)).text


async def test_the_stats_page_draws_its_charts(ops: httpx.AsyncClient, db: TestDatabase) -> None:
    make_recruiter(db, name="Alice Archer")
    for days in (7, 30, 90):
        page = await ops.get(f"/dashboard/stats?days={days}")
        assert page.status_code == 200
        assert page.text.count('<svg class="chart"') == 2
        assert "Alice Archer" in page.text and "median time to return" in page.text


async def test_the_charts_show_the_median_time_to_return_per_day_and_recruiter(
    ops: httpx.AsyncClient, db: TestDatabase
) -> None:
    alice = make_recruiter(db, name="Alice Archer")

    def returned(closed_at: datetime, minutes: int) -> Obligation:
        opened = closed_at - timedelta(minutes=minutes)
        return make_obligation(
            alice,
            caller=f"+4477009001{minutes:02d}",
            opened_at=opened,
            status="closed",
            closed_at=closed_at,
            close_reason=CloseReason.CALLBACK,
            seconds_to_close=minutes * 60,
        )

    sunday = datetime(2026, 1, 4, 12, 0, tzinfo=UTC)
    db.add(
        returned(sunday, 10),
        returned(sunday + timedelta(hours=11, minutes=59), 30),
        returned(datetime(2026, 1, 5, 9, 0, tzinfo=UTC), 60),
        returned(datetime(2025, 12, 1, 9, 0, tzinfo=UTC), 5),  # before the window
    )
    page = (await ops.get("/dashboard/stats?days=7")).text
    assert "<title>01-04: 20m</title>" in page
    assert "<title>01-05: 1h</title>" in page
    assert "<title>Alice Archer: 30m</title>" in page
    assert page.count("<rect") == 3
