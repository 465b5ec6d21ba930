"""Nudge drain: 10,000 due nudges sent to the fake Twilio API by 1, then 4, `callpledge worker`s.

Each run starts from a fresh PostgreSQL database holding 10,000 recruiters with one due
obligation each (so no digest folds them together), starts the workers as real processes,
and times the first to the last message the fake Twilio server receives. Duplicates are
messages beyond one per recruiter's mobile.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from app.migrate import upgrade
from bench.env import ROOT, conninfo, fresh_database, service_env
from tests.support.fake_twilio import FakeTwilio

NUDGES = 10_000
TIMEOUT_SECONDS = 600


@dataclass
class DrainFigures:
    workers: int
    seconds: float
    sent: int
    duplicates: int

    @property
    def per_second(self) -> float:
        return self.sent / self.seconds


def seed(database_url: str) -> None:
    """NUDGES recruiters, each with one open obligation whose first nudge is due."""
    now = datetime.now(UTC)
    missed = now - timedelta(minutes=5)
    with psycopg.connect(conninfo(database_url)) as connection, connection.cursor() as cursor:
        with cursor.copy(
            "COPY recruiters (id, name, mobile, line, timezone, active, "
            "created_at, updated_at) FROM STDIN"
        ) as copy:
            for n in range(1, NUDGES + 1):
                copy.write_row(
                    (n, f"Recruiter {n}", f"+1415{n:07d}", f"+1500{n:07d}", "UTC", True, now, now)
                )
        with cursor.copy(
            "COPY obligations (id, recruiter_id, caller, status, opened_at, "
            "last_missed_at, missed_calls, reminders_sent, next_reminder_at, "
            "callback_attempts, updated_at) FROM STDIN"
        ) as copy:
            for n in range(1, NUDGES + 1):
                copy.write_row(
                    (
                        n,
                        n,
                        f"+1212{n:07d}",
                        "open",
                        missed,
                        missed,
                        1,
                        0,
                        missed + timedelta(minutes=2),
                        0,
                        missed,
                    )
                )
        cursor.execute("SELECT setval('recruiters_id_seq', %s)", (NUDGES,))
        cursor.execute("SELECT setval('obligations_id_seq', %s)", (NUDGES,))
        connection.commit()
        connection.autocommit = True
        cursor.execute("VACUUM ANALYZE")


def drain(workers: int, fake: FakeTwilio) -> DrainFigures:
    database_url = fresh_database("callpledge_bench_drain")
    upgrade(database_url)
    seed(database_url)
    fake.reset()
    env = service_env(
        database_url,
        SMS_BACKEND="twilio",
        TWILIO_API_URL=fake.base_url,
        TWILIO_ACCOUNT_SID=fake.account_sid,
        TWILIO_AUTH_TOKEN=fake.auth_token,
        WORKER_POLL_SECONDS="0.2",
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "app", "worker"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    try:
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while not fake.messages and time.monotonic() < deadline:
            time.sleep(0.01)
        started = time.monotonic()
        while len(fake.messages) < NUDGES and time.monotonic() < deadline:
            time.sleep(0.05)
        seconds = time.monotonic() - started
        time.sleep(1)  # anything sent twice would arrive now
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
    per_mobile = Counter(message["to"] for message in fake.messages)
    duplicates = sum(count - 1 for count in per_mobile.values())
    return DrainFigures(workers, seconds, len(per_mobile), duplicates)


def run() -> list[DrainFigures]:
    fake = FakeTwilio().start()
    try:
        return [drain(1, fake), drain(4, fake)]
    finally:
        fake.stop()


def report(figures: list[DrainFigures]) -> list[str]:
    lines = [
        f"Nudge drain ({NUDGES:,} due nudges → fake Twilio API, PostgreSQL)",
        f"{'workers':>8} {'seconds':>8} {'nudges/s':>9} {'sent':>7} {'duplicates':>11}",
    ]
    for f in figures:
        lines.append(
            f"{f.workers:>8} {f.seconds:>8.1f} {f.per_second:>9.0f} {f.sent:>7,} {f.duplicates:>11}"
        )
    lines.append("targets: >= 300/s with one worker, more with four; duplicates 0")
    return lines


if __name__ == "__main__":
    print("\n".join(report(run())))
