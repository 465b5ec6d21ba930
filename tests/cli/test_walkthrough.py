"""The README's "Try it in two minutes", typed as a new user would, against a live service.

The service is `callpledge serve` as `make run` starts it (demo mode, SQLite in the
folder, the worker inside), on a free port and with nudges 2 s apart instead of 30 s; the
second terminal's commands are read from the README and run as written.
"""

import os
import re
import shlex
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.outbox.processes import wait_until

MARKER = "<!-- walkthrough: the test suite runs these commands against a live service -->"


def walkthrough(readme: str) -> list[list[str]]:
    """The commands of the fenced block after the marker, continuation lines joined."""
    block = readme.split(MARKER, 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    joined = re.sub(r"\\\n\s*", " ", block)
    return [shlex.split(line) for line in joined.splitlines() if line.strip()]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def demo_env(project_root: Path) -> dict[str, str]:
    """A new user's shell: no callpledge settings at all, except the free port's URL.

    (PYTHONPATH: the code under test, whatever the virtual environment was installed from.)
    """
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "CALLPLEDGE"))}
    return clean | {
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "PORT": str(port),
        "PYTHONPATH": str(project_root),
    }


@pytest.fixture
def service(folder: Path, demo_env: dict[str, str]) -> Iterator[Path]:
    """`REMINDER_SCHEDULE=… make run` in the first terminal; its output goes to a log."""
    log = folder / "service.log"
    env = demo_env | {"REMINDER_SCHEDULE": "2s", "WORKER_POLL_SECONDS": "0.2"}
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--port", demo_env["PORT"]],
            cwd=folder,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(lambda: _healthy(demo_env["PUBLIC_BASE_URL"]), "the service answers")
        yield log
    finally:
        process.terminate()
        process.wait(timeout=20)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


@pytest.mark.slow
def test_the_readme_walkthrough_works_as_written(
    project_root: Path, folder: Path, demo_env: dict[str, str], service: Path
) -> None:
    readme = (project_root / "README.md").read_text()
    assert "REMINDER_SCHEDULE=30s make run" in readme
    assert "$(BIN)/callpledge serve" in (project_root / "Makefile").read_text()
    activate, add, missed, callback = walkthrough(readme)
    assert activate == ["source", ".venv/bin/activate"]

    added = run(add, folder, demo_env)
    assert "#1 Alice" in added.stdout

    call = run(missed, folder, demo_env)
    assert "Obligation #1 is OPEN: call back +44 7700 900123 (1 missed call)." in call.stdout
    assert 'voicemail: "Hi, it\'s Sam about the Berlin role"' in call.stdout
    assert "SMS to +1 415-555-0100 from +1 500-555-0006 (sent):" in call.stdout
    assert "| #1 Call back Sam +44 7700 900123" in call.stdout
    assert "--- SMS to +14155550100 from +15005550006 ---" in service.read_text()

    returned = run(callback, folder, demo_env)
    assert "Obligation #1 is now CLOSED (callback)." in returned.stdout


def run(command: list[str], folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A `callpledge …` line of the README, run as typed in the second terminal."""
    assert command[0] == "callpledge"
    done = subprocess.run(
        [sys.executable, "-m", "app", *command[1:]],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done
