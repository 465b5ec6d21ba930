"""On SQLite exactly one worker runs: it holds an exclusive lock on a file beside the database.

(`FOR UPDATE SKIP LOCKED` is silently ignored on SQLite, so two workers would both send.)
"""

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.db import sqlite_path


class WorkerLockHeld(Exception):
    """Another process runs the worker for this SQLite database."""


# Lock file → [descriptor, holders in this process]: `serve` takes the lock before the
# server starts, so it can refuse cleanly, and its embedded worker takes it again inside.
_held: dict[Path, list[int]] = {}


def lock_path(database_url: str) -> Path | None:
    """The worker lock file of a SQLite database; None where no lock is needed."""
    database = sqlite_path(database_url)
    return database.with_name(f"{database.name}.worker.lock") if database else None


@contextmanager
def single_worker(database_url: str) -> Iterator[None]:
    """Hold the worker lock while the block runs; WorkerLockHeld if another process has it."""
    path = lock_path(database_url)
    if path is not None:
        _acquire(path)
    try:
        yield
    finally:
        if path is not None:
            _release(path)


def _acquire(path: Path) -> None:
    if path in _held:
        _held[path][1] += 1
        return
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(descriptor, 32).decode(errors="replace").strip()
        os.close(descriptor)
        raise WorkerLockHeld(
            f"a callpledge worker (pid {holder or 'unknown'}) already runs on this SQLite "
            f"database and holds {path}; on SQLite exactly one worker may run. Stop it, or "
            f"start `callpledge serve --no-worker`."
        ) from None
    os.ftruncate(descriptor, 0)
    os.write(descriptor, f"{os.getpid()}\n".encode())
    _held[path] = [descriptor, 1]


def _release(path: Path) -> None:
    _held[path][1] -= 1
    if _held[path][1] == 0:
        descriptor = _held.pop(path)[0]
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        os.close(descriptor)
