"""How `callpledge simulate` shows what happened: the exchanges, the obligation, the SMS."""

import asyncio
import time
from datetime import datetime, timedelta

import httpx
import typer

from app.clock import clock_from_settings
from app.config import Settings
from app.durations import format_duration
from app.phones import for_people
from app.simulator.exchange import CallRecord
from app.simulator.scenarios import twiml_verbs
from app.simulator.service_view import ObligationState, SentItem, View
from app.twilio.twiml import DIAL_RESULT

# A first nudge due later than this is not waited for (working hours, or a long schedule).
LONGEST_WAIT_SECONDS = 600
_POLL_SECONDS = 0.5
_MARGIN_SECONDS = 10
# What each webhook tells the service that matters for the flow.
_TOLD = ("DialCallStatus", "Digits", "RecordingStatus", "TranscriptionStatus")
_FINISHED = frozenset({"sent", "delivered", "undelivered", "failed"})
_NO_VIEW = (
    "(The obligation cannot be shown: give --token (or set API_TOKENS) for the ops API, or run "
    "this where DATABASE_URL reaches the service's database.)"
)


def show_exchanges(record: CallRecord, voicemail: str | None = None) -> None:
    """Each webhook Twilio sent and the TwiML verbs it got back; what the people heard."""
    for exchange in record.exchanges:
        path = httpx.URL(exchange.request.url).path
        told = [
            f"{name}={exchange.request.params[name]}"
            for name in _TOLD
            if name in exchange.request.params
        ]
        verbs = " ".join(twiml_verbs(exchange)) if exchange.status_code == 200 else ""
        line = f"  POST {path:<28} {' '.join(told):<29} -> {exchange.status_code} {verbs}"
        typer.secho(line.rstrip(), dim=True)
    for text in record.recruiter_heard:
        typer.echo(f"  the recruiter hears: {text!r}")
    for text in record.caller_heard:
        typer.echo(f"  the caller hears: {text!r}")
    if record.recording_sid is not None:
        typer.echo(f"  the caller leaves a voicemail: {voicemail or '(silence)'!r}")


def forwarded(record: CallRecord, line: str) -> bool:
    """Whether the line rang a recruiter; if not, say how to give it one."""
    if record.sent_to(DIAL_RESULT):
        return True
    typer.secho(
        f"No active recruiter has the line {line}: add one with "
        f"`callpledge recruiter add --name NAME --mobile MOBILE --line {line}`.",
        fg=typer.colors.YELLOW,
    )
    return False


async def after_call(
    view: View, *, line: str, call_sid: str, settings: Settings
) -> ObligationState | None:
    """Show the obligation the call left (and when its next nudge is due)."""
    if view.obligations is None:
        typer.secho(_NO_VIEW, fg=typer.colors.YELLOW)
        return None
    state = await view.obligations.of_call(line=line, call_sid=call_sid)
    show_obligation(state, settings)
    return state


def show_obligation(state: ObligationState | None, settings: Settings) -> None:
    """One line for the obligation, and when it nudges next."""
    if state is None:
        typer.echo("No obligation for this (the call was taken, or nobody has this line).")
        return
    if state.status != "open":
        typer.secho(f"Obligation #{state.id} is CLOSED ({state.close_reason}).", fg="green")
        return
    who = for_people(state.caller) if state.caller else "a withheld caller"
    calls = f"{state.missed_calls} missed call{'s' if state.missed_calls != 1 else ''}"
    typer.secho(f"Obligation #{state.id} is OPEN: call back {who} ({calls}).", fg="yellow")
    for transcript in state.transcripts:
        typer.echo(f"  voicemail: {transcript!r}" if transcript else "  voicemail (no transcript)")
    if state.next_reminder_at is not None:
        typer.echo(f"  {_due(state, state.next_reminder_at, settings)}")


def show_callback(
    before: ObligationState | None, after: ObligationState | None, view: View, settings: Settings
) -> None:
    """What the callback did to the caller's obligation."""
    if view.obligations is None:
        typer.secho(_NO_VIEW, fg=typer.colors.YELLOW)
    elif after is None:
        typer.echo("No obligation for this number on that line: nothing to close.")
    elif after.status != "open":
        was = "was already" if before is not None and before.status != "open" else "is now"
        typer.secho(f"Obligation #{after.id} {was} CLOSED ({after.close_reason}).", fg="green")
    elif _attempts(after) > _attempts(before):
        typer.secho(
            f"Obligation #{after.id} stays OPEN: the attempt is on its timeline.", fg="yellow"
        )
        if after.next_reminder_at is not None:
            typer.echo(f"  {_due(after, after.next_reminder_at, settings)}")
    else:
        typer.secho(
            f"Obligation #{after.id} is still OPEN: the service logged the call but did not "
            "take it as a callback.",
            fg="yellow",
        )


def show_sent(items: list[SentItem]) -> None:
    """The SMS (and calls) the service sent or queued."""
    for item in items:
        if item.kind == "sms":
            typer.secho(
                f"SMS to {for_people(item.to_number)} from {_from(item)} ({item.status}):",
                fg=typer.colors.CYAN,
            )
            for text in (item.body or "").splitlines():
                typer.secho(f"  | {text}", fg=typer.colors.CYAN)
        else:
            typer.secho(
                f"Call to {for_people(item.to_number)} from {_from(item)} ({item.status}).",
                fg=typer.colors.CYAN,
            )


async def _wait_for_nudge(
    view: View, state: ObligationState, *, mark: int, settings: Settings
) -> None:
    """Wait until the worker sends the obligation's next nudge, then show it."""
    due = state.next_reminder_at
    if due is None:
        return
    now = clock_from_settings(settings.callpledge_clock_file).now()
    wait = max(0.0, (due - now).total_seconds()) + 2 * settings.worker_poll_seconds
    wait += _MARGIN_SECONDS
    if wait > LONGEST_WAIT_SECONDS:
        typer.echo(f"Not waiting {_span(wait)} for it.")
        return
    typer.echo(f"Waiting for the nudge (up to {_span(wait)})...")
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if await _nudged(view, state, mark):
            return
        await asyncio.sleep(_POLL_SECONDS)
    typer.secho(
        "No nudge yet. Is the worker running? (It runs inside `callpledge serve` unless "
        "--no-worker.)",
        fg=typer.colors.YELLOW,
    )


async def show_what_follows(
    view: View, state: ObligationState, *, mark: int, wait: bool, settings: Settings
) -> None:
    """What an open obligation brings next: the caller's text-back, then (`wait`) the nudge."""
    mark = await _show_caller_text(view, state, mark=mark, settings=settings)
    if wait:
        await _wait_for_nudge(view, state, mark=mark, settings=settings)
    else:
        typer.echo("  (Add --wait to watch for it.)")


async def _show_caller_text(
    view: View, state: ObligationState, *, mark: int, settings: Settings
) -> int:
    """Show the text-back the worker queues for the caller (app/courtesy), once it has; the
    outbox mark past it, so the nudge is waited for after it."""
    if view.database is None or state.caller is None or state.missed_calls != 1:
        return mark
    if not settings.caller_text_on:
        return mark
    for _ in range(int(2 * settings.worker_poll_seconds / 0.25) + 4):
        sent = await view.database.sent_after(mark, obligation_id=state.id)
        texts = [item for item in sent if item.to_number == state.caller]
        if texts:
            typer.echo("The caller hears back:")
            show_sent(texts)
            return max(item.id for item in texts)
        await asyncio.sleep(0.25)
    typer.echo("  (No text-back to the caller yet: see caller_text on the obligation.)")
    return mark


async def _nudged(view: View, state: ObligationState, mark: int) -> bool:
    if view.database is not None:
        sent = await view.database.sent_after(mark, obligation_id=state.id)
        finished = [item for item in sent if item.status in _FINISHED]
        show_sent(finished)
        return bool(finished)
    if view.obligations is None:
        return False
    now = await view.obligations.by_id(state.id)
    if now is None or now.reminders_sent <= state.reminders_sent:
        return False
    typer.echo(f"Nudge {now.reminders_sent} sent (its text is in the service's console or log).")
    return True


def _due(state: ObligationState, due: datetime, settings: Settings) -> str:
    now = clock_from_settings(settings.callpledge_clock_file).now()
    which = "First" if state.reminders_sent == 0 else "Next"
    return f"{which} nudge due {_clock(due)} ({_until(due, now)}; REMINDER_SCHEDULE)."


def _until(due: datetime, now: datetime) -> str:
    seconds = int((due - now).total_seconds())
    if seconds <= 0:
        return "now"
    return f"in {_span(seconds)}"


def _span(seconds: float) -> str:
    return format_duration(timedelta(seconds=int(seconds)))


def _clock(moment: datetime) -> str:
    return moment.strftime("%H:%M:%S UTC")


def _from(item: SentItem) -> str:
    return for_people(item.from_number) if item.from_number else "the messaging service"


def _attempts(state: ObligationState | None) -> int:
    return 0 if state is None else state.events.count("callback_attempt")
