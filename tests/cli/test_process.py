"""The `callpledge` command, run as a user runs it: a real process."""

import os
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.support.databases import TestDatabase


def callpledge(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=cwd,
        env=_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _env(extra: dict[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CI"}}
    return env | (extra or {})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_db_upgrade_creates_the_schema(database: TestDatabase, tmp_path: Path) -> None:
    database.wipe()
    result = callpledge("db", "upgrade", cwd=tmp_path, env={"DATABASE_URL": database.url})
    assert result.returncode == 0, result.stderr
    assert "database at head" in result.stdout


def test_a_bad_setting_stops_with_one_line_naming_it(tmp_path: Path) -> None:
    result = callpledge("serve", cwd=tmp_path, env={"REMINDER_SCHEDULE": "2m,later"})
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: REMINDER_SCHEDULE: ")


def test_demo_mode_refuses_to_bind_beyond_loopback(tmp_path: Path) -> None:
    result = callpledge("serve", "--host", "0.0.0.0", cwd=tmp_path)
    assert result.returncode == 2
    assert "TWILIO_AUTH_TOKEN" in result.stderr and "loopback" in result.stderr
    assert not (tmp_path / "callpledge.db").exists()


def test_serve_works_from_an_empty_folder_with_no_setup(tmp_path: Path) -> None:
    response, output = served("/readyz", tmp_path, None)
    assert response.json() == {"status": "ready"}
    assert (tmp_path / "callpledge.db").exists()
    assert "demo mode" in output


def test_serve_comes_up_on_a_postgresql_it_cannot_reach_and_says_so_once(tmp_path: Path) -> None:
    url = f"postgresql://callpledge:s3cret-pw@127.0.0.1:{free_port()}/callpledge"
    env = {"DATABASE_URL": url}
    response, output = served("/healthz", tmp_path, env, "--no-migrate")
    assert response.status_code == 200
    warnings = [line for line in output.splitlines() if "connections ahead" in line]
    assert len(warnings) == 1 and "Connection refused" in warnings[0]
    assert "s3cret-pw" not in output


def served(
    path: str, folder: Path, env: dict[str, str] | None, *extra: str
) -> tuple[httpx.Response, str]:
    """`callpledge serve --no-worker` in `folder`: its first answer to GET `path`, its output."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(port), "--no-worker", *extra],
        cwd=folder,
        env=_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}{path}", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "serve did not come up"
                time.sleep(0.2)
        time.sleep(0.5)  # what start-up logs after its first answer
    finally:
        process.terminate()
        output = process.communicate(timeout=15)[0]
    return response, output


@pytest.mark.slow
def test_the_wheel_ships_the_migrations(tmp_path: Path, project_root: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(project_root),
        ],
        check=True,
        timeout=300,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("callpledge-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {
        "migrations/env.py",
        "migrations/script.py.mako",
        "migrations/versions/0001_initial_schema.py",
        "app/cli/main.py",
    } <= names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "callpledge = app.cli.main:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The command's single line of error (exit 2), asserting there is nothing else."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    "command",
    [
        ("db", "upgrade"),
        ("serve", "--no-worker"),
        ("worker",),
        ("token", "list"),
        ("recruiter", "add", "--name", "A", "--mobile", "+447700900001", "--line", "+447700900002"),
    ],
)
def test_a_database_that_cannot_be_reached_is_one_line_without_its_password(
    command: tuple[str, ...], tmp_path: Path
) -> None:
    url = f"postgresql://callpledge:s3cret-pw@127.0.0.1:{free_port()}/callpledge"
    result = callpledge(*command, cwd=tmp_path, env={"DATABASE_URL": url})
    line = one_error_line(result)
    assert line.startswith("error: DATABASE_URL: ") and "Connection refused" in line
    assert "s3cret-pw" not in result.stderr + result.stdout


def test_serve_on_a_sqlite_file_in_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/missing/callpledge.db"
    result = callpledge("serve", cwd=tmp_path, env={"DATABASE_URL": url})
    assert one_error_line(result).startswith("error: DATABASE_URL: ")


@pytest.mark.parametrize("command", [("token", "list"), ("recruiter", "list"), ("worker",)])
def test_commands_leave_no_empty_database_behind(command: tuple[str, ...], tmp_path: Path) -> None:
    result = callpledge(*command, cwd=tmp_path)
    line = one_error_line(result)
    assert line.startswith("error: DATABASE_URL: ") and "callpledge db upgrade" in line
    assert list(tmp_path.iterdir()) == []


def test_commands_on_a_database_without_the_schema_ask_for_db_upgrade(
    unmigrated: TestDatabase, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": unmigrated.url}
    for command in (("token", "create", "--name", "ops"), ("recruiter", "list"), ("worker",)):
        line = one_error_line(callpledge(*command, cwd=tmp_path, env=env))
        assert "callpledge db upgrade" in line and "no such table" not in line
    assert callpledge("db", "upgrade", cwd=tmp_path, env=env).returncode == 0
    assert callpledge("recruiter", "list", cwd=tmp_path, env=env).stdout == "no recruiters\n"


def test_every_command_group_keeps_local_variables_out_of_tracebacks() -> None:
    from app.cli.main import cli

    groups = [cli]
    for group in groups:
        assert group.pretty_exceptions_show_locals is False, group.info.help
        groups.extend(sub.typer_instance for sub in group.registered_groups)
    assert len(groups) == 7
