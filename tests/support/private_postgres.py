"""A private PostgreSQL server a test may stop and start: never the machine's shared one.

`initdb` into a temporary folder owned by `postgres` (trust auth, a free loopback port,
its unix sockets in that folder), then `pg_ctl start`, `stop -m fast`, `start` at will.
Run as root, every command goes through `runuser -u postgres`, since PostgreSQL refuses
to run as root.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.databases import in_ci

_BIN_GLOB = "/usr/lib/postgresql/*/bin"
_USER = "postgres"


def server_binaries() -> Path | None:
    """The folder holding `initdb` and `pg_ctl` (the newest installed version), if any."""
    versions = [p for p in glob.glob(_BIN_GLOB) if Path(p).parent.name.isdigit()]
    for folder in sorted(versions, key=lambda p: int(Path(p).parent.name), reverse=True):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    found = shutil.which("initdb")
    return Path(found).resolve().parent if found and shutil.which("pg_ctl") else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PrivatePostgres:
    """One throw-away PostgreSQL cluster on 127.0.0.1:`port`."""

    binaries: Path
    folder: Path
    port: int

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def url(self) -> str:
        return f"postgresql://{_USER}@127.0.0.1:{self.port}/postgres"

    @classmethod
    def create(cls, binaries: Path) -> PrivatePostgres:
        folder = Path(tempfile.mkdtemp(prefix="callpledge-pg-"))
        if os.geteuid() == 0:
            shutil.chown(folder, user=_USER, group=_USER)
        server = cls(binaries, folder, _free_port())
        server._run("initdb", "-D", str(server.data), "-U", _USER, "-A", "trust", "--no-sync")
        return server

    def start(self) -> None:
        # fsync off: the drill stops the server on purpose, it never loses the machine.
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=60"
        )
        log = str(self.folder / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def stop(self) -> None:
        """Stop at once (`-m fast`): open sessions are cut, as when a server goes away."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def running(self) -> bool:
        status = self._run("pg_ctl", "-D", str(self.data), "status", check=False)
        return status.returncode == 0

    def remove(self) -> None:
        if self.running():
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def log(self) -> str:
        path = self.folder / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.binaries / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", _USER, "--", *command]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=60, cwd=self.folder, check=False
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"{tool} failed ({result.returncode}): {result.stderr.strip()}")
        return result


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    """A running private PostgreSQL server, removed after the test (skipped without the
    server binaries, except in CI, where that fails)."""
    binaries = server_binaries()
    if binaries is None:
        reason = "PostgreSQL server binaries (initdb, pg_ctl) are not installed"
        if in_ci():
            pytest.fail(f"{reason}, and CI=true requires them")
        pytest.skip(reason)
    server = PrivatePostgres.create(binaries)
    try:
        server.start()
        yield server
    finally:
        server.remove()
