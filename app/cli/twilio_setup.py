"""`callpledge twilio setup`, and what every command using the Twilio account shares.

Those need real credentials (TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN) and refuse demo
mode. Numbers are shown in full: this is the operator's own terminal, not a log.
"""

import asyncio
import ipaddress
import logging
from typing import Annotated

import httpx
import requests
import typer
from twilio.base.exceptions import TwilioException

from app.cli.support import (
    command_group,
    database_errors,
    fail,
    number_option,
    require_schema,
    settings_or_exit,
)
from app.config import Settings
from app.db import begin_read_only, create_async_db_engine, session_factory
from app.reconcile.run import Line
from app.recruiters import service as recruiters
from app.twilio import provision
from app.twilio.client import build_client

twilio_cli = command_group("Your Twilio account: point the lines at this service.")
# What the twilio library raises when Twilio refuses a request or cannot be reached.
TWILIO_TROUBLE = (TwilioException, requests.RequestException)


@twilio_cli.command("setup")
def twilio_setup(
    line: Annotated[
        str | None, typer.Option(help="Only this number (default: every active recruiter's line).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; change nothing.")
    ] = False,
) -> None:
    """Point each line's webhooks, and the softphones' TwiML App, at PUBLIC_BASE_URL."""
    settings = with_account("twilio setup")
    active = [found.number for found in active_lines(settings)]
    lines = [number_option(line, "--line", settings)] if line else active
    for number in sorted(set(lines) - set(active)):
        typer.secho(
            f"note: {number} is no active recruiter's line; callers will hear it is not in "
            "service until it is (callpledge recruiter add)",
            fg=typer.colors.YELLOW,
        )
    _warn_if_unreachable(settings)
    client = build_client(settings)
    try:
        wanted = provision.number_settings(settings)
        numbers = provision.plan_numbers(client, lines=lines, wanted=wanted)
        app = provision.plan_app(client, wanted=provision.app_settings(settings))
        for plan in numbers:
            _show_number(plan, dry_run)
            if not dry_run:
                provision.apply_number(client, plan)
        app_sid = app.sid if dry_run else provision.apply_app(client, app)
    except TWILIO_TROUBLE as exc:
        fail(f"Twilio: {exc}", code=1)
    _show_app(app, app_sid, dry_run)
    missing = [plan.line for plan in numbers if plan.sid is None]
    if missing:
        fail(f"not in Twilio account {settings.account_sid}: {', '.join(missing)}", code=1)


# -- settings and look-ups ---------------------------------------------------------------


def with_account(command: str) -> Settings:
    """The settings, or exit 2 unless they name a Twilio account (not demo mode)."""
    settings = settings_or_exit()
    # It logs every request's query (phone numbers) at INFO.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    if settings.demo_mode or settings.twilio_account_sid is None:
        fail(
            f"{command} works on a Twilio account: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN "
            "(this is demo mode, which has none)"
        )
    return settings


def active_lines(settings: Settings) -> list[Line]:
    """The active recruiters' lines."""
    require_schema(settings)

    async def read() -> list[Line]:
        engine = create_async_db_engine(settings.database_url)
        try:
            async with session_factory(engine)() as session:
                await begin_read_only(session)
                found = await recruiters.list_recruiters(session, include_inactive=False)
                return [Line(recruiter.id, recruiter.line) for recruiter in found]
        finally:
            await engine.dispose()

    with database_errors():
        return asyncio.run(read())


def _warn_if_unreachable(settings: Settings) -> None:
    host = httpx.URL(settings.public_base_url).host
    try:
        private = ipaddress.ip_address(host).is_private
    except ValueError:
        private = host == "localhost" or host.endswith((".local", ".internal", ".localhost"))
    if private:
        typer.secho(
            f"warning: Twilio cannot reach PUBLIC_BASE_URL={settings.public_base_url}; set it to "
            "the service's public HTTPS address first",
            fg=typer.colors.YELLOW,
            err=True,
        )


# -- output ------------------------------------------------------------------------------


def _show_number(plan: provision.NumberPlan, dry_run: bool) -> None:
    if plan.sid is None:
        typer.secho(f"{plan.line}: not found in this Twilio account", fg="red")
        return
    if not plan.changes:
        typer.echo(f"{plan.line} ({plan.sid}): already set up")
        return
    verb = "would change" if dry_run else "updated"
    typer.secho(f"{plan.line} ({plan.sid}): {verb}", fg="green")
    _show_changes(plan.changes)


def _show_app(plan: provision.AppPlan, sid: str | None, dry_run: bool) -> None:
    name = f"TwiML App {provision.APP_NAME!r}"
    if plan.sid is None:
        typer.secho(f"{name}: {'would be created' if dry_run else f'created ({sid})'}", fg="green")
    elif plan.changes:
        typer.secho(f"{name} ({plan.sid}): {'would change' if dry_run else 'updated'}", fg="green")
    else:
        typer.echo(f"{name} ({plan.sid}): already set up")
    _show_changes(plan.changes)
    if sid is not None:
        typer.echo(f"  Softphones dial out through it: use {sid} as the outgoing application.")
    if dry_run:
        typer.echo("Dry run: nothing was changed.")


def _show_changes(changes: tuple[provision.Change, ...]) -> None:
    for change in changes:
        old = change.old or "(none)"
        typer.echo(f"  {change.field:<24} {old}\n  {'':<24} -> {change.new or '(none)'}")
