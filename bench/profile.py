"""`python -m bench profile [dial|status]`: where the server's CPU goes under the ingest load.

py-spy samples the real `callpledge serve` while wrk sends the ingest benchmark's signed
webhooks; the tables show each package's own share of the samples (a sample counts for the
deepest frame of a package listed below, so the HTTP server's share is its own parsing and
socket writes, not the route it calls) and the functions most often at the top.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from app.migrate import upgrade
from bench.env import fresh_database, running_server
from bench.ingest import CONNECTIONS, HERE, PATHS, seed_recruiter, signed_requests, wrk

# Where a frame's file lives, by the first matching fragment of its path.
LAYERS = {
    "uvicorn/httptools (HTTP)": ("uvicorn/", "httptools/"),
    "starlette": ("starlette/",),
    "fastapi": ("fastapi/",),
    "app.http (lean webhooks)": ("app/http/",),
    "signature (hmac)": ("app/twilio/signature.py", "hmac.py", "request_validator.py"),
    "form parsing": ("urllib/parse.py", "multipart/"),
    "sqlalchemy": ("sqlalchemy/",),
    "psycopg (driver)": ("psycopg/", "psycopg_binary/"),
    "app (routes, domain)": ("app/",),
    "prometheus_client": ("prometheus_client/",),
    "logging": ("logging/",),
    "asyncio event loop": ("asyncio/", "uvloop/"),
}
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*):\d+\)$")


def run(kind: str = "dial", seconds: int = 15) -> list[str]:
    if shutil.which("py-spy") is None and not Path(sys.prefix, "bin", "py-spy").exists():
        raise SystemExit("bench profile needs py-spy: pip install py-spy")
    spy = shutil.which("py-spy") or str(Path(sys.prefix, "bin", "py-spy"))
    database_url = fresh_database("callpledge_bench_profile")
    upgrade(database_url)
    seed_recruiter(database_url)
    with tempfile.TemporaryDirectory() as folder:
        requests_file = signed_requests(60_000, Path(folder), kind)
        stacks = Path(folder) / "stacks.txt"
        with running_server(database_url) as server:
            command = [spy, "record", "--pid", str(server.process.pid), "--rate", "200"]
            command += ["--duration", str(seconds), "--format", "raw", "--output", str(stacks)]
            spying = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            env = {"BENCH_PATH": PATHS[kind], "BENCH_FILE": str(requests_file)}
            env |= {"BENCH_THREADS": "1"}
            result = wrk(server, "", HERE / "ingest.lua", seconds, env)
            spying.wait(timeout=seconds + 30)
        return report(kind, result.per_second, result.cpu_ms_per_request, stacks.read_text())


def report(kind: str, rate: float, cpu_ms: float, raw: str) -> list[str]:
    own: Counter[str] = Counter()
    tops: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [m for m in map(_FRAME.match, stack.split(";")) if m]
        total += int(count)
        # The deepest frame of a known package: what the sample was spent on.
        layer = next((_layer(m["file"]) for m in reversed(frames) if _layer(m["file"])), None)
        own[layer or "other"] += int(count)
        if frames:
            tops[f"{frames[-1]['function']} ({Path(frames[-1]['file']).name})"] += int(count)
    lines = [
        f"Profile of the {kind} ingest ({CONNECTIONS} connections): {rate:.0f} req/s, "
        f"{cpu_ms:.3f} ms server CPU per request, {total} samples",
        "own time by package (the deepest frame of a known one)    share   ms/req",
    ]
    lines += [
        f"  {name:52} {n / total:6.1%} {cpu_ms * n / total:8.3f}" for name, n in own.most_common()
    ]
    lines.append("functions at the top of the stack (own time)")
    lines += [f"  {name[:60]:60} {n / total:6.1%}" for name, n in tops.most_common(12)]
    return lines


def _layer(file: str) -> str | None:
    for name, fragments in LAYERS.items():
        if any(fragment in file for fragment in fragments):
            return name
    return None


if __name__ == "__main__":
    print("\n".join(run(sys.argv[1] if len(sys.argv) > 1 else "dial")))
