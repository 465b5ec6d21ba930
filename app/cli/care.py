"""`callpledge export` and `callpledge erase`: data care from the shell.

Numbers are shown in full: this is the operator's own terminal, not a log.
"""

import asyncio
import sys
from datetime import timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from sqlalchemy.ext.asyncio import AsyncSession

from app.care.erase import erase_caller
from app.care.export import count, csv_chunks
from app.care.recordings import RecordingEraser
from app.cli.support import (
    database_errors,
    fail,
    number_option,
    require_schema,
    run_in_transaction,
    settings_or_exit,
)
from app.clock import clock_from_settings
from app.config import Settings
from app.db import create_async_db_engine, session_factory
from app.durations import parse_duration
from app.models import ObligationStatus
from app.obligations.queries import ObligationFilter


def export(
    since: Annotated[
        str | None, typer.Option(help="Only obligations opened in this last while, e.g. 30d.")
    ] = None,
    status: Annotated[ObligationStatus | None, typer.Option(help="open or closed")] = None,
    recruiter_id: Annotated[int | None, typer.Option(help="One recruiter's only.")] = None,
) -> None:
    """Write obligations as CSV to stdout (newest opened first), progress on stderr."""
    settings = settings_or_exit()
    require_schema(settings)
    now = clock_from_settings(settings.callpledge_clock_file).now()
    where = ObligationFilter(
        status=status,
        recruiter_id=recruiter_id,
        opened_after=None if since is None else now - _duration(since),
    )
    with database_errors():
        written = asyncio.run(_export(settings, where))
    typer.echo(f"{written} obligations exported", err=True)


def _duration(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as exc:
        fail(f"--since: {exc}")


async def _export(settings: Settings, where: ObligationFilter) -> int:
    engine = create_async_db_engine(settings.database_url)
    sessions = session_factory(engine)
    written = 0
    try:
        total = await count(sessions, where=where)
        with Progress(console=Console(stderr=True), transient=True) as progress:
            task = progress.add_task("exporting", total=total)
            async for chunk in csv_chunks(sessions, where=where):
                sys.stdout.write(chunk)
                lines = chunk.count("\r\n")
                written += lines
                progress.advance(task, lines)
        sys.stdout.flush()
    finally:
        await engine.dispose()
    return max(written - 1, 0)  # the header is no obligation


def erase(
    number: Annotated[str, typer.Argument(help="The caller's number, e.g. +447700900123.")],
) -> None:
    """Erase a caller: redact everything naming NUMBER and delete their recordings at Twilio."""
    settings = settings_or_exit()
    e164 = number_option(number, "NUMBER", settings)

    async def work(session: AsyncSession, settings: Settings) -> dict[str, int]:
        now = clock_from_settings(settings.callpledge_clock_file).now()
        return await erase_caller(session, number=e164, actor="cli", at=now)

    counts = run_in_transaction(work)
    for kind, rows in counts.items():
        typer.echo(f"{kind:<20} {rows}")
    with database_errors():
        deleted = asyncio.run(_delete_recordings(settings))
    typer.echo(f"{deleted} recordings deleted at Twilio (the worker retries any left)", err=True)


async def _delete_recordings(settings: Settings) -> int:
    engine = create_async_db_engine(settings.database_url)
    try:
        now = clock_from_settings(settings.callpledge_clock_file).now()
        return await RecordingEraser(settings).delete_queued(session_factory(engine), now=now)
    finally:
        await engine.dispose()
