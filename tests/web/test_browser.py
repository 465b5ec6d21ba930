"""The dashboard and the pledge record in a real browser: Debian's Chromium, driven by Playwright.

Playwright's own browser download cannot work here; the tests use /usr/bin/chromium (`apt-get
install chromium`). Without it they are skipped, saying so, except in CI (CI=true), where a
missing browser fails them.
"""

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, async_playwright, expect

from app.clock import ManualClock
from app.config import Settings
from app.simulator.exchange import CallScript
from app.simulator.twilio import TwilioSimulator
from tests.support.databases import TestDatabase, in_ci
from tests.support.factories import T0, make_obligation, make_recruiter
from tests.support.live import LiveServer
from tests.web.conftest import ENV_TOKEN

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-background-networking"]


def chromium_or_skip() -> str:
    """The browser's path; a skip (a failure in CI) when it is not installed."""
    if CHROMIUM.exists():
        return str(CHROMIUM)
    problem = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    if in_ci():
        pytest.fail(f"browser tests need Chromium in CI (CI=true): {problem}")
    pytest.skip(f"browser tests skipped: {problem}")


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # The live server is plain http on loopback: the cookie must not be Secure-only there.
    return {"api_tokens": ENV_TOKEN, "public_base_url": "http://127.0.0.1:8000"}


@pytest.fixture
async def page() -> AsyncIterator[Page]:
    executable = chromium_or_skip()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport={"width": 1280, "height": 800})
        yield await context.new_page()
        await browser.close()


async def _sign_in(page: Page, live: LiveServer) -> None:
    await page.goto(f"{live.url}/dashboard")
    await expect(page).to_have_url(f"{live.url}/dashboard/signin?next=%2Fdashboard")
    await page.get_by_label("API token").fill(ENV_TOKEN)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Open obligations")).to_be_visible()


async def _missed_call(settings: Settings, live: LiveServer, line: str) -> None:
    """Twilio's part, from the simulator: a missed call with a voicemail."""
    async with httpx.AsyncClient(base_url=live.url) as http:
        simulator = TwilioSimulator(
            http,
            auth_token=settings.auth_token,
            public_base_url=settings.public_base_url,
            account_sid=settings.account_sid,
        )
        script = CallScript(
            caller="+447700900123", line=line, message="Hi, calling about the Java role"
        )
        await simulator.call(script)


async def test_a_missed_call_appears_and_is_snoozed_then_closed(
    page: Page, live_server: LiveServer, settings: Settings, db: TestDatabase
) -> None:
    alice = make_recruiter(db, name="Alice Archer")
    await _sign_in(page, live_server)
    await expect(page.get_by_text("Nothing open.")).to_be_visible()
    await page.evaluate("window.notReloaded = true")

    await _missed_call(settings, live_server, alice.line)
    row = page.locator("tr[id^=obligation-]")
    await expect(row).to_have_count(1, timeout=15_000)  # the board polls every 5 s
    await expect(row).to_contain_text("+44 7700 900123")
    await expect(row).to_contain_text("Hi, calling about the Java role")
    assert await page.evaluate("window.notReloaded") is True

    await row.get_by_role("button", name="1h", exact=True).click()
    await expect(page.get_by_text("Snoozed.")).to_be_visible()
    await expect(row.locator(".tag")).to_have_text("snoozed")

    await row.get_by_role("button", name="Close").click()
    await expect(page.get_by_text("Closed.")).to_be_visible()
    await expect(row).to_have_count(0)
    await expect(page.get_by_text("Nothing open.")).to_be_visible()


async def test_the_pledge_page_and_its_badge_load(
    page: Page, live_server: LiveServer, db: TestDatabase
) -> None:
    make_recruiter(db, name="Alice Archer", slug="alice-archer", public_pledge=True)
    await page.goto(f"{live_server.url}/pledge")
    await page.get_by_role("link", name="Alice Archer").click()
    await expect(page.get_by_role("heading", name="Alice Archer")).to_be_visible()
    badge = page.get_by_role("img", name="no missed calls yet")
    await expect(badge).to_be_visible()
    assert await badge.evaluate("image => image.naturalWidth") > 100
    answer = await page.request.get(f"{live_server.url}/pledge/alice-archer/badge.svg")
    assert answer.headers["content-type"] == "image/svg+xml"
    assert answer.headers["cache-control"] == "public, max-age=300"


async def test_the_board_puts_the_overdue_first_and_moves_a_promise_up_when_it_passes(
    page: Page, live_server: LiveServer, clock: ManualClock, db: TestDatabase
) -> None:
    alice = make_recruiter(db, name="Alice Archer", timezone="Europe/London")
    h = timedelta(hours=1)
    waiting = make_obligation(alice, caller="+447700900201", opened_at=T0 - 5 * h)
    overdue = make_obligation(
        alice, caller="+447700900202", opened_at=T0 - 3 * h, promised_by=T0 - h
    )
    due = make_obligation(alice, caller="+447700900203", opened_at=T0 - h, promised_by=T0 + 3 * h)
    db.add(waiting, overdue, due)
    clock.set(T0)
    await _sign_in(page, live_server)
    rows = page.locator("tr[id^=obligation-]")
    ids = [f"obligation-{o.id}" for o in (overdue, waiting, due)]
    assert [await row.get_attribute("id") for row in await rows.all()] == ids
    await expect(rows.nth(0)).to_contain_text("Overdue")
    await expect(rows.nth(2)).to_contain_text("Due by 13:00")

    clock.set(T0 + 3 * h + timedelta(minutes=1))  # the promise passes: the next poll shows it
    await expect(rows.nth(1)).to_have_id(f"obligation-{due.id}", timeout=15_000)
    await expect(rows.nth(1)).to_contain_text("Overdue")
