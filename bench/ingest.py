"""Webhook ingest: signed "missed call" webhooks from distinct callers, against the floor.

wrk (Debian's package) replays pre-signed requests at concurrency 16 for 20 s; the same
server's /healthz is the floor. The server is the real `callpledge serve` on PostgreSQL.
Two kinds of miss: the Dial action's (`dial`), and observe mode's status callback of an
inbound call that ended `no-answer` (`status`). The floor and the two kinds take turns in
four slices of a quarter of the time each, so the load of anything else running on the
machine falls on all three alike; the slices add up (p50: their median, p99: the worst).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import psycopg
from twilio.request_validator import RequestValidator

from app.migrate import upgrade
from bench.env import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    PUBLIC_BASE_URL,
    Server,
    conninfo,
    fresh_database,
    running_server,
)

HERE = Path(__file__).resolve().parent
DIAL_PATH = "/twilio/voice/dial?recruiter=1"
PATHS = {"dial": DIAL_PATH, "status": "/twilio/voice/status"}
LINE = "+15005550006"
THREADS = 1
CONNECTIONS = 16
SLICES = 4


@dataclass
class WrkResult:
    requests: int
    seconds: float
    non2xx: int
    socket_errors: int
    p50_ms: float
    p99_ms: float
    wrapped: int
    cpu_ms_per_request: float = 0.0

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


@dataclass
class IngestFigures:
    floor: WrkResult
    ingest: WrkResult
    status: WrkResult
    persisted: int
    peak_rss_mib: float


def signed_requests(count: int, folder: Path, kind: str = "dial") -> Path:
    """`count` missed-call webhooks of `kind` from distinct callers, signed as Twilio signs."""
    validator = RequestValidator(AUTH_TOKEN)
    url = PUBLIC_BASE_URL + PATHS[kind]
    path = folder / f"{kind}.tsv"
    with path.open("w") as out:
        for n in range(count):
            form = _form(kind, n)
            out.write(f"{validator.compute_signature(url, form)}\t{urlencode(form)}\n")
    return path


def _form(kind: str, n: int) -> dict[str, str]:
    call = {"AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "Direction": "inbound"}
    call |= {"To": LINE}
    if kind == "dial":
        call |= {"CallSid": f"CA{n:032x}", "From": f"+1212{n:07d}", "CallStatus": "in-progress"}
        return call | {"DialCallStatus": "no-answer", "DialBridged": "false"}
    call |= {"CallSid": f"CA1{n:031x}", "From": f"+1213{n:07d}", "CallStatus": "no-answer"}
    return call | {"SequenceNumber": "3", "CallDuration": "0"}


def wrk(server: Server, path: str, script: Path, seconds: int, env: dict[str, str]) -> WrkResult:
    """Run wrk against `server`; add the server's CPU time per request to its figures."""
    cpu_before = server.cpu_seconds()
    result = _wrk(f"{server.url}{path}", script, seconds, env)
    result.cpu_ms_per_request = (server.cpu_seconds() - cpu_before) * 1000 / result.requests
    return result


def _wrk(url: str, script: Path, seconds: int, env: dict[str, str]) -> WrkResult:
    command = [
        "wrk",
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "-s",
        str(script),
        url,
    ]
    output = subprocess.run(
        command, capture_output=True, text=True, check=True, env=os.environ | env
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH "))
    return WrkResult(**json.loads(line.removeprefix("BENCH ")))


def seed_recruiter(database_url: str) -> None:
    now = datetime.now(UTC)
    with psycopg.connect(conninfo(database_url)) as connection:
        connection.execute(
            "INSERT INTO recruiters (id, name, mobile, line, timezone, active, created_at, "
            "updated_at) VALUES (1, 'Bench', '+14155550100', %s, 'UTC', true, %s, %s)",
            (LINE, now, now),
        )
        connection.execute("SELECT setval('recruiters_id_seq', 1)")


def persisted(database_url: str) -> int:
    with psycopg.connect(conninfo(database_url)) as connection:
        row = connection.execute(
            "SELECT count(*) FROM calls WHERE missed_at IS NOT NULL"
        ).fetchone()
    return int(row[0]) if row else 0


def run(seconds: int = 20, requests: int = 120_000) -> IngestFigures:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    database_url = fresh_database("callpledge_bench_ingest")
    upgrade(database_url)
    seed_recruiter(database_url)
    with tempfile.TemporaryDirectory() as folder:
        requests_file = signed_requests(requests, Path(folder))
        status_file = signed_requests(requests, Path(folder), "status")
        files = {"dial": requests_file, "status": status_file}
        slices: dict[str, list[WrkResult]] = {"floor": [], "dial": [], "status": []}
        sent = {"dial": 0, "status": 0}
        step = max(1, seconds // SLICES)
        with running_server(database_url) as server:
            for _ in range(SLICES):
                slices["floor"].append(wrk(server, "/healthz", HERE / "floor.lua", step, {}))
                for kind, path in files.items():
                    result = _replay(server, kind, path, step, sent[kind])
                    # wrk does not count the requests in flight when it stops: skip them too.
                    sent[kind] += result.requests + result.socket_errors + 2 * CONNECTIONS
                    slices[kind].append(result)
            rss = server.peak_rss_mib()
    floor, ingest, status = (merged(slices[kind]) for kind in ("floor", "dial", "status"))
    return IngestFigures(floor, ingest, status, persisted(database_url), rss)


def _replay(server: Server, kind: str, requests_file: Path, seconds: int, offset: int) -> WrkResult:
    env = {"BENCH_PATH": PATHS[kind], "BENCH_FILE": str(requests_file)}
    env |= {"BENCH_THREADS": str(THREADS), "BENCH_OFFSET": str(offset)}
    return wrk(server, "", HERE / "ingest.lua", seconds, env)


def merged(results: list[WrkResult]) -> WrkResult:
    """Slices of one benchmark as one run: totals, the median p50, the worst p99."""
    requests = sum(r.requests for r in results)
    return WrkResult(
        requests=requests,
        seconds=sum(r.seconds for r in results),
        non2xx=sum(r.non2xx for r in results),
        socket_errors=sum(r.socket_errors for r in results),
        p50_ms=statistics.median(r.p50_ms for r in results),
        p99_ms=max(r.p99_ms for r in results),
        wrapped=sum(r.wrapped for r in results),
        cpu_ms_per_request=sum(r.cpu_ms_per_request * r.requests for r in results) / requests,
    )


def report(figures: IngestFigures) -> list[str]:
    floor, ingest, status = figures.floor, figures.ingest, figures.status
    lines = [
        f"Webhook ingest (wrk, {CONNECTIONS} connections, {ingest.seconds:.0f} s, PostgreSQL)",
        f"{'':30} {'req/s':>8} {'p50':>8} {'p99':>8} {'non-2xx':>8} {'errors':>7} "
        f"{'server CPU/req':>14}",
    ]
    named = (
        ("floor: GET /healthz", floor),
        ("Dial action, missed", ingest),
        ("status callback, missed", status),
    )
    for name, result in named:
        lines.append(
            f"{name:30} {result.per_second:>8.0f} {result.p50_ms:>6.2f}ms "
            f"{result.p99_ms:>6.2f}ms {result.non2xx:>8} {result.socket_errors:>7} "
            f"{result.cpu_ms_per_request:>12.3f}ms"
        )
    answered = sum(r.requests - r.non2xx for r in (ingest, status))
    lines.append(
        f"ingest / floor: Dial action {ingest.per_second / floor.per_second:.0%}, status "
        f"{status.per_second / floor.per_second:.0%} (target >= 30 %, moonshot 40 %); "
        f"p99 target <= 50 ms; misses persisted: {figures.persisted:,} of {answered:,} "
        "answered 2xx" + (f"; request file wrapped {ingest.wrapped}x" if ingest.wrapped else "")
    )
    lines.append(f"server peak RSS during the run: {figures.peak_rss_mib:.0f} MiB")
    return lines


if __name__ == "__main__":
    print("\n".join(report(run())))
