"""Dashboard and pledge pages: p50 and p95 with 10,000 open obligations (and 10,000 closed ones
in the last 90 days, which the stats and pledge figures read)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import psycopg

from app.migrate import upgrade
from bench.env import API_TOKEN, conninfo, fresh_database, percentile, running_server

RECRUITERS = 50
OPEN = 10_000
CLOSED = 10_000
REPEATS = 100
PAGES = {
    "board": "/dashboard",
    "board, one recruiter": "/dashboard?status=open&recruiter=7",
    "board poll": "/dashboard/board?status=open",
    "stats (7 days)": "/dashboard/stats",
    "stats (90 days)": "/dashboard/stats?days=90",
    "pledge index": "/pledge",
    "pledge page": "/pledge/recruiter-7",
    "pledge badge": "/pledge/recruiter-7/badge.svg",
}


@dataclass
class PageFigures:
    name: str
    path: str
    p50_ms: float
    p95_ms: float


def _recruiter_rows(now: datetime) -> list[tuple[object, ...]]:
    return [
        (n, f"Recruiter {n}", f"+1415666{n:04d}", f"+1500555{n:04d}", "UTC", True, True,
         f"recruiter-{n}", now, now)
        for n in range(1, RECRUITERS + 1)
    ]  # fmt: skip


def _obligation_rows(now: datetime) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for n in range(1, OPEN + CLOSED + 1):
        is_open = n <= OPEN
        opened = now - timedelta(days=89) * (n / (OPEN + CLOSED))
        closed = None if is_open else opened + timedelta(minutes=n % 600)
        rows.append(
            (n, 1 + n % RECRUITERS, f"+1212{n:07d}", "open" if is_open else "closed", opened,
             opened, 1 + n % 3, 0, opened + timedelta(minutes=2) if is_open else None, 0, closed,
             None if is_open else "callback", None if is_open else (n % 600) * 60, opened)
        )  # fmt: skip
    return rows


def seed(database_url: str) -> None:
    """Bulk-load the recruiters (all publishing their record) and the obligations with COPY."""
    now = datetime.now(UTC)
    with psycopg.connect(conninfo(database_url)) as connection, connection.cursor() as cursor:
        with cursor.copy(
            "COPY recruiters (id, name, mobile, line, timezone, active, public_pledge, slug, "
            "created_at, updated_at) FROM STDIN"
        ) as copy:
            for row in _recruiter_rows(now):
                copy.write_row(row)
        with cursor.copy(
            "COPY obligations (id, recruiter_id, caller, status, opened_at, last_missed_at, "
            "missed_calls, reminders_sent, next_reminder_at, callback_attempts, closed_at, "
            "close_reason, seconds_to_close, updated_at) FROM STDIN"
        ) as copy:
            for row in _obligation_rows(now):
                copy.write_row(row)
        cursor.execute("SELECT setval('obligations_id_seq', %s)", (OPEN + CLOSED,))
        cursor.execute("SELECT setval('recruiters_id_seq', %s)", (RECRUITERS,))
        connection.commit()
        connection.autocommit = True
        cursor.execute("VACUUM ANALYZE")


def sign_in(client: httpx.Client) -> None:
    form = client.get("/dashboard/signin").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)
    assert csrf, "the sign-in page has no CSRF field"
    answer = client.post("/dashboard/signin", data={"token": API_TOKEN, "csrf": csrf.group(1)})
    assert answer.status_code == 303, answer.text


def timed(client: httpx.Client, path: str) -> list[float]:
    client.get(path).raise_for_status()  # warm
    timings = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return timings


def run() -> list[PageFigures]:
    database_url = fresh_database("callpledge_bench_pages")
    upgrade(database_url)
    seed(database_url)
    figures = []
    # Plain http on loopback: the session cookie must not be Secure-only.
    with (
        running_server(database_url, PUBLIC_BASE_URL="http://127.0.0.1") as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        sign_in(client)
        for name, path in PAGES.items():
            ms = timed(client, path)
            figures.append(PageFigures(name, path, percentile(ms, 0.5), percentile(ms, 0.95)))
    return figures


def report(figures: list[PageFigures]) -> list[str]:
    lines = [
        f"Pages with {OPEN:,} open and {CLOSED:,} closed obligations, {RECRUITERS} recruiters "
        f"({REPEATS} sequential GETs each; target p50 < 50 ms)",
        f"{'page':<22} {'path':<38} {'p50':>9} {'p95':>9}",
    ]
    for f in figures:
        lines.append(f"{f.name:<22} {f.path:<38} {f.p50_ms:>7.2f}ms {f.p95_ms:>7.2f}ms")
    return lines


if __name__ == "__main__":
    print("\n".join(report(run())))
