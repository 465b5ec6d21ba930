"""`callpledge reconcile`: restore from Twilio's records what the service never heard of.

Numbers are shown in full: this is the operator's own terminal, not a log.
"""

import asyncio
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from app.cli.support import database_errors, fail, number_option
from app.cli.twilio_setup import TWILIO_TROUBLE, active_lines, with_account
from app.clock import clock_from_settings
from app.config import Settings
from app.db import create_async_db_engine, session_factory
from app.durations import parse_duration
from app.phones import for_people
from app.reconcile.restore import Restored
from app.reconcile.run import Line, LineSummary, Reconciler
from app.reminders.policy import NudgePolicy
from app.twilio.client import build_client
from app.twilio.history import CallHistory

# A run checking at least this many calls shows a progress bar (on stderr).
PROGRESS_FROM = 25
_IDS_SHOWN = 20


def reconcile(
    since: Annotated[
        str, typer.Option(help="How far back: a duration (24h, 3d) or an ISO time with offset.")
    ] = "24h",
    line: Annotated[
        list[str] | None,
        typer.Option(help="Only this line (repeatable; default: every active recruiter's)."),
    ] = None,
) -> None:
    """Restore the missed calls and voicemails Twilio holds that the service never heard of."""
    settings = with_account("reconcile")
    start = _window_start(since, settings)
    lines = _chosen_lines(settings, line or [])
    typer.echo(f"Reconciling {len(lines)} line(s) from Twilio's records since {_when(start)}.")
    bar = ProgressBar(Console(stderr=True))

    async def main() -> list[LineSummary]:
        engine = create_async_db_engine(settings.database_url)
        try:
            reconciler = Reconciler(
                history=CallHistory(build_client(settings)),
                sessions=session_factory(engine),
                region=settings.default_region,
                policy=NudgePolicy.of(settings),
                progress=bar,
            )
            return await reconciler.run(lines=lines, since=start)
        finally:
            bar.stop()
            await engine.dispose()

    try:
        with database_errors():
            summaries = asyncio.run(main())
    except TWILIO_TROUBLE as exc:
        fail(f"Twilio: {exc} (what was restored so far is kept: run it again)", code=1)
    _show_summaries(summaries)


def _chosen_lines(settings: Settings, numbers: list[str]) -> list[Line]:
    """The active lines, or those named with --line (each must be an active one)."""
    lines = active_lines(settings)
    if not numbers:
        return lines
    wanted = {number_option(raw, "--line", settings) for raw in numbers}
    unknown = sorted(wanted - {found.number for found in lines})
    if unknown:
        fail(f"--line: no active recruiter has {', '.join(unknown)}")
    return [found for found in lines if found.number in wanted]


class ProgressBar:
    """A progress bar for long runs, drawn only from PROGRESS_FROM calls on."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._progress: Progress | None = None

    def start(self, total: int) -> None:
        if total < PROGRESS_FROM:
            return
        self._progress = Progress(
            TextColumn("Checking calls"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self._console,
        )
        self._progress.add_task("calls", total=total)
        self._progress.start()

    def advance(self) -> None:
        if self._progress is not None:
            self._progress.advance(self._progress.task_ids[0])

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()


def _window_start(since: str, settings: Settings) -> datetime:
    now = clock_from_settings(settings.callpledge_clock_file).now()
    try:
        return now - parse_duration(since)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(since)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        fail(f"--since: {since!r} is neither a duration (24h, 3d) nor an ISO time with offset")
    return moment


def _show_summaries(summaries: list[LineSummary]) -> None:
    restored = [item for summary in summaries for item in summary.restored]
    for summary in summaries:
        typer.echo(
            f"line {for_people(summary.line.number)}: {summary.calls} call(s); "
            f"{summary.taken} taken, {summary.known} already known, "
            f"{summary.unfinished} still going, {len(summary.restored)} restored"
        )
        for item in summary.restored:
            typer.echo(f"  {_restored(item)}")
    if not restored:
        typer.secho("Nothing to restore: every missed call and voicemail was known.", fg="green")
        return
    opened = sorted({r.obligation_id for r in restored if r.opened and r.obligation_id})
    typer.secho(
        f"Restored {sum(r.counted for r in restored)} missed call(s) ({len(opened)} new "
        f"obligation(s){_ids(opened)}), "
        f"{sum(len(r.voicemails) for r in restored)} voicemail(s), "
        f"{sum(r.transcripts for r in restored)} transcript(s).",
        fg="green",
    )


def _restored(item: Restored) -> str:
    who = for_people(item.caller) if item.caller else "withheld caller"
    where = f"#{item.obligation_id}" if item.obligation_id else "no obligation"
    parts = []
    if item.counted:
        parts.append(f"{'opened' if item.opened else 'missed call added to'} {where}")
        parts.append(f"({item.miss})")
    else:
        parts.append(f"on {where}")
    if item.voicemails:
        parts.append(f"+{len(item.voicemails)} voicemail")
    if item.transcripts:
        parts.append(f"+{item.transcripts} transcript")
    return f"{item.call_sid} from {who}: {' '.join(parts)}"


def _ids(ids: list[int]) -> str:
    if not ids:
        return ""
    shown = ", ".join(f"#{i}" for i in ids[:_IDS_SHOWN])
    more = f" and {len(ids) - _IDS_SHOWN} more" if len(ids) > _IDS_SHOWN else ""
    return f": {shown}{more}"


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
