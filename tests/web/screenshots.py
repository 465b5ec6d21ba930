"""Screenshots of the board and the pledge page for the README: `python -m tests.web.screenshots`.

Seeds made-up data (fiction-range numbers) into a temporary SQLite database, serves the app on
loopback and photographs it with Debian's Chromium into docs/.
"""

import asyncio
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.async_api import async_playwright

from app.clock import ManualClock
from app.config import Settings
from app.main import create_app
from app.migrate import upgrade
from app.models import CloseReason, ObligationStatus, Voicemail
from tests.support.databases import TestDatabase
from tests.support.factories import make_obligation, make_recruiter
from tests.support.live import LiveServer
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS

NOW = datetime(2026, 12, 7, 15, 30, tzinfo=UTC)
PROMISE = timedelta(hours=4)  # every call promised back within 4 h (plain time here)
TOKEN = "screenshot-token-of-enough-length"
DOCS = Path(__file__).resolve().parents[2] / "docs"
OPEN = [
    # caller, name, recruiter index, age, missed calls, transcript, snoozed
    (
        "+447700900181",
        "Priya Shah",
        0,
        timedelta(hours=26),
        3,
        "Hi, it's Priya again about "
        "the senior data engineer role. I can start in January, please call me back.",
        False,
    ),
    (
        "+447700900245",
        None,
        1,
        timedelta(hours=5, minutes=12),
        1,
        "Calling about the contract for the warehouse team, need to confirm the Monday start.",
        False,
    ),
    ("+12025550143", "Marcus Lee", 2, timedelta(hours=2, minutes=40), 2, None, True),
    (
        "+447700900372",
        "Hannah Becker",
        0,
        timedelta(minutes=48),
        1,
        "Quick question about the interview slot on Thursday.",
        False,
    ),
    ("+12025550178", None, 1, timedelta(minutes=9), 1, None, False),
]


def seed(db: TestDatabase) -> None:
    people = [
        make_recruiter(
            db,
            name="Alice Archer",
            timezone="Europe/London",
            slug="alice-archer",
            public_pledge=True,
        ),
        make_recruiter(
            db,
            name="Ben Okafor",
            timezone="America/New_York",
            slug="ben-okafor",
            public_pledge=True,
        ),
        make_recruiter(
            db,
            name="Chloe Martin",
            timezone="Europe/Paris",
            slug="chloe-martin",
            public_pledge=True,
        ),
    ]
    rows = []
    for caller, name, who, age, missed, _transcript, snoozed in OPEN:
        opened = NOW - age
        rows.append(
            make_obligation(
                people[who],
                caller=caller,
                caller_name=name,
                opened_at=opened,
                missed_calls=missed,
                last_missed_at=opened,
                next_reminder_at=NOW + timedelta(minutes=37),
                promised_by=opened + PROMISE,
                snoozed_until=NOW + timedelta(hours=4) if snoozed else None,
            )
        )
    for n in range(60):
        opened = NOW - timedelta(days=1 + n * 1.4, hours=n % 7)
        minutes = [14, 38, 52, 71, 95, 130, 22, 300][n % 8] * (1 + (n % 3) // 2)
        returned = n % 11 != 0
        rows.append(
            make_obligation(
                people[n % 3],
                caller=f"+4477009004{n:02d}",
                opened_at=opened,
                status=ObligationStatus.CLOSED,
                closed_at=opened + timedelta(minutes=minutes),
                close_reason=CloseReason.CALLBACK if returned else CloseReason.OPS,
                seconds_to_close=minutes * 60,
                promised_by=opened + PROMISE,
            )
        )
    db.add(*rows)
    db.add(
        *[
            Voicemail(
                recording_sid=f"RE{i:032d}",
                call_sid=f"CA{i:032d}",
                obligation_id=row.id,
                transcript=OPEN[i][5],
                duration_seconds=18,
                created_at=NOW,
                updated_at=NOW,
            )
            for i, row in enumerate(rows[: len(OPEN)])
            if OPEN[i][5]
        ]
    )


async def photograph(url: str) -> None:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        page = await browser.new_page(viewport={"width": 1360, "height": 760})
        await page.goto(f"{url}/dashboard/signin")
        await page.get_by_label("API token").fill(TOKEN)
        await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_selector("tr[id^=obligation-]")
        await page.screenshot(path=str(DOCS / "dashboard-board.png"), full_page=True)
        await page.goto(f"{url}/dashboard/stats?days=30")
        await page.screenshot(path=str(DOCS / "dashboard-stats.png"), full_page=True)
        await page.set_viewport_size({"width": 1100, "height": 700})
        await page.goto(f"{url}/pledge/alice-archer")
        await page.screenshot(path=str(DOCS / "pledge.png"), full_page=True)
        await browser.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = TestDatabase.sqlite(Path(folder))
        upgrade(db.url)
        seed(db)
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, database_url=db.url, api_tokens=TOKEN, default_region="GB"
        )
        server = LiveServer(create_app(settings, clock=ManualClock(NOW))).start()
        try:
            asyncio.run(photograph(server.url))
        finally:
            server.stop()
            db.drop()
    print(f"screenshots written to {DOCS}", file=sys.stderr)


if __name__ == "__main__":
    main()
