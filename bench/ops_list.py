"""Ops list: the first page and a page 5,000 items deep, at 10,000 and 1,000,000 obligations."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import psycopg

from app.migrate import upgrade
from bench.env import API_TOKEN, conninfo, fresh_database, percentile, running_server

RECRUITERS = 50
REPEATS = 200
PAGE = 50
DEPTH = 5_000


@dataclass
class ListFigures:
    rows: int
    seed_seconds: float
    first_p50_ms: float
    first_p95_ms: float
    deep_p50_ms: float
    deep_p95_ms: float
    depth: int


def seed(database_url: str, rows: int) -> float:
    """Bulk-load `rows` obligations (every tenth open) with COPY; return the seconds taken."""
    started = time.perf_counter()
    now = datetime.now(UTC)
    with psycopg.connect(conninfo(database_url)) as connection, connection.cursor() as cursor:
        with cursor.copy(
            "COPY recruiters (id, name, mobile, line, timezone, active, "
            "created_at, updated_at) FROM STDIN"
        ) as copy:
            for n in range(1, RECRUITERS + 1):
                copy.write_row(
                    (
                        n,
                        f"Recruiter {n}",
                        f"+1415666{n:04d}",
                        f"+1500555{n:04d}",
                        "UTC",
                        True,
                        now,
                        now,
                    )
                )
        with cursor.copy(
            "COPY obligations (id, recruiter_id, caller, status, opened_at, "
            "last_missed_at, missed_calls, reminders_sent, next_reminder_at, "
            "callback_attempts, closed_at, close_reason, seconds_to_close, "
            "updated_at) FROM STDIN"
        ) as copy:
            step = timedelta(days=365) / rows
            for n in range(1, rows + 1):
                opened = now - step * (rows - n)
                is_open = n % 10 == 0
                closed = None if is_open else opened + timedelta(minutes=n % 600)
                copy.write_row(
                    (
                        n,
                        1 + n % RECRUITERS,
                        f"+1212{n:07d}",
                        "open" if is_open else "closed",
                        opened,
                        opened,
                        1,
                        0,
                        opened + timedelta(minutes=2) if is_open else None,
                        0,
                        closed,
                        None if is_open else "callback",
                        None if is_open else (n % 600) * 60,
                        opened,
                    )
                )
        cursor.execute("SELECT setval('obligations_id_seq', %s)", (rows,))
        cursor.execute("SELECT setval('recruiters_id_seq', %s)", (RECRUITERS,))
        connection.commit()
        connection.autocommit = True
        cursor.execute("VACUUM ANALYZE obligations")
    return time.perf_counter() - started


def timed_gets(client: httpx.Client, params: dict[str, str | int]) -> list[float]:
    timings = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        response = client.get("/api/v1/obligations", params=params)
        timings.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return timings


def measure(rows: int) -> ListFigures:
    database_url = fresh_database("callpledge_bench_list")
    upgrade(database_url)
    seed_seconds = seed(database_url, rows)
    with (
        running_server(database_url) as server,
        httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {API_TOKEN}"}, timeout=30
        ) as client,
    ):
        first: dict[str, str | int] = {"status": "open", "limit": PAGE}
        cursor = ""
        depth = min(DEPTH, rows // 10 - PAGE)  # 10,000 rows hold only 1,000 open ones
        for _ in range(depth // PAGE):  # walk down page by page, as a client would
            page = client.get(
                "/api/v1/obligations", params=first | ({"cursor": cursor} if cursor else {})
            ).json()
            cursor = str(page["next_cursor"])
        first_ms = timed_gets(client, first)
        deep_ms = timed_gets(client, first | {"cursor": cursor})
    return ListFigures(
        rows,
        seed_seconds,
        percentile(first_ms, 0.5),
        percentile(first_ms, 0.95),
        percentile(deep_ms, 0.5),
        percentile(deep_ms, 0.95),
        depth,
    )


def run() -> list[ListFigures]:
    return [measure(10_000), measure(1_000_000)]


def report(figures: list[ListFigures]) -> list[str]:
    small, large = figures
    lines = [
        "Ops list (GET /api/v1/obligations?status=open&limit=50, newest first)",
        f"{'rows':>10} {'seed s':>7} {'first p50':>10} {'first p95':>10} "
        f"{'depth':>6} {'deep p50':>9} {'deep p95':>9}",
    ]
    for f in figures:
        lines.append(
            f"{f.rows:>10,} {f.seed_seconds:>7.1f} {f.first_p50_ms:>8.2f}ms "
            f"{f.first_p95_ms:>8.2f}ms {f.depth:>6,} {f.deep_p50_ms:>7.2f}ms "
            f"{f.deep_p95_ms:>7.2f}ms"
        )
    lines.append(
        f"ratio 1M/10k: first {large.first_p50_ms / small.first_p50_ms:.2f}x, "
        f"deep {large.deep_p50_ms / small.deep_p50_ms:.2f}x "
        "(targets: p50 <= 15 ms, ratio <= 1.5x)"
    )
    return lines


if __name__ == "__main__":
    print("\n".join(report(run())))
