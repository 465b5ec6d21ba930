"""`callpledge token …` and `callpledge recruiter …`: manage API tokens and recruiters.

Numbers are shown in full: this is the operator's own terminal, not a log.
"""

import functools
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from app.api import tokens
from app.cli.support import (
    command_group,
    echo_listed,
    echo_secret_once,
    fail,
    now,
    run_in_transaction,
    signature_with,
)
from app.config import Settings
from app.models import ApiToken, Recruiter
from app.recruiters import service as recruiters

token_cli = command_group("Ops API tokens.")
recruiter_cli = command_group("Recruiters and their lines.")


# -- tokens ------------------------------------------------------------------------------


@token_cli.command("create")
def token_create(
    name: Annotated[str, typer.Option("--name", help="Who uses it; shown as the actor.")],
) -> None:
    """Create a token and print it once: it is stored only as a hash."""

    async def work(session: AsyncSession, settings: Settings) -> str:
        return await tokens.create_token(session, name=name, at=now(settings))

    secret = run_in_transaction(work)
    echo_secret_once(secret, note=f"token {name!r} created; it will not be shown again")


@token_cli.command("list")
def token_list() -> None:
    """List tokens (names and dates, never the secrets)."""

    echo_listed(tokens.list_tokens, empty="no tokens", line=_token_line)


def _token_line(token: ApiToken) -> str:
    state = f"revoked {_when(token.revoked_at)}" if token.revoked_at else "live"
    return (
        f"{token.name:<24} {state:<28} created {_when(token.created_at)}"
        f"  last used {_when(token.last_used_at)}"
    )


@token_cli.command("revoke")
def token_revoke(name: Annotated[str, typer.Argument(help="The token's name.")]) -> None:
    """Revoke the live token NAME: requests with it get 401 from now on."""

    async def work(session: AsyncSession, settings: Settings) -> None:
        await tokens.revoke_token(session, name=name, at=now(settings))

    run_in_transaction(work)
    typer.echo(f"token {name!r} revoked")


# -- recruiters ------------------------------------------------------------------------


def _working_hours(raw: str | None) -> Any:
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        fail('--working-hours must be JSON, e.g. \'{"mon": [["09:00", "17:30"]]}\'')


def _given(**options: Any) -> dict[str, Any]:
    """The options given (not None): '' stands for None (it clears), working hours are JSON."""
    return {key: _option(key, value) for key, value in options.items() if value is not None}


def _option(key: str, value: Any) -> Any:
    if key == "working_hours":
        return _working_hours(value)
    return (value or None) if isinstance(value, str) else value


_NAME = "The recruiter's name."
_MOBILE = "Their own mobile (E.164 or local)."
_LINE = "Their Twilio number."
Name = Annotated[str | None, typer.Option(help=_NAME)]
Mobile = Annotated[str | None, typer.Option(help=_MOBILE)]
Line = Annotated[str | None, typer.Option(help=_LINE)]
RecruiterId = Annotated[int, typer.Argument(help="The recruiter's id.")]
Zone = Annotated[str | None, typer.Option("--timezone", help="IANA time zone.")]
Escalation = Annotated[str | None, typer.Option(help="Who hears of unanswered nudges ('' clears).")]
Identity = Annotated[str | None, typer.Option(help="Softphone identity, e.g. alice ('' clears).")]
Hours = Annotated[
    str | None, typer.Option(help='JSON, e.g. \'{"mon": [["09:00", "17:30"]]}\'; null: always.')
]
Pledge = Annotated[
    bool | None,
    typer.Option("--public-pledge/--no-public-pledge", help="Publish the pledge record."),
]
Slug = Annotated[str | None, typer.Option(help="The record's address /pledge/SLUG ('' clears).")]
CallerTextFlag = Annotated[
    bool | None, typer.Option("--caller-text/--no-caller-text", help="Text-backs to callers.")
]
Template = Annotated[
    str | None,
    typer.Option(help="Text-back with {caller_name} {recruiter} {promise} {team} ('' clears)."),
]


# The options add and update share, in their --help order after each command's own.
_SHARED = {
    "timezone": Zone,
    "escalation_number": Escalation,
    "client_identity": Identity,
    "working_hours": Hours,
    "public_pledge": Pledge,
    "slug": Slug,
    "caller_text": CallerTextFlag,
    "caller_text_template": Template,
}


def _with_shared(command: Callable[..., None]) -> Callable[..., None]:
    """`command` with the options of _SHARED too; it gets their values as one dict, `shared`."""

    @functools.wraps(command)
    def run(**options: Any) -> None:
        shared = {name: options.pop(name) for name in _SHARED}
        command(**options, shared=shared)

    run.__signature__ = signature_with(command, _SHARED, less="shared")  # type: ignore[attr-defined]
    return run


@recruiter_cli.command("add")
@_with_shared
def recruiter_add(
    name: Annotated[str, typer.Option(help=_NAME)],
    mobile: Annotated[str, typer.Option(help=_MOBILE)],
    line: Annotated[str, typer.Option(help=_LINE)],
    shared: dict[str, Any],
) -> None:
    """Add a recruiter and their line."""
    fields: dict[str, Any] = {"name": name, "mobile": mobile, "line": line}
    optional = {"timezone": shared.pop("timezone")} | _given(**shared)
    fields |= {key: value for key, value in optional.items() if value is not None}
    _save_and_show(recruiters.create_recruiter, fields=fields)


@recruiter_cli.command("list")
def recruiter_list(
    all_: Annotated[bool, typer.Option("--all", help="Include deactivated ones.")] = False,
) -> None:
    """List recruiters."""

    async def work(session: AsyncSession, _settings: Settings) -> list[Recruiter]:
        return list(await recruiters.list_recruiters(session, include_inactive=all_))

    found = run_in_transaction(work)
    if not found:
        typer.echo("no recruiters")
    for recruiter in found:
        _show(recruiter)


@recruiter_cli.command("update")
@_with_shared
def recruiter_update(
    recruiter_id: RecruiterId,
    name: Name = None,
    mobile: Mobile = None,
    line: Line = None,
    *,
    shared: dict[str, Any],
) -> None:
    """Change some of a recruiter's fields."""
    changes = _given(name=name, mobile=mobile, line=line, **shared)
    if not changes:
        fail("nothing to change: give at least one option")
    _save_and_show(recruiters.update_recruiter, recruiter_id=recruiter_id, changes=changes)


@recruiter_cli.command("deactivate")
def recruiter_deactivate(
    recruiter_id: RecruiterId,
) -> None:
    """Deactivate a recruiter: their line stops forwarding; obligations stay listed."""

    async def work(session: AsyncSession, settings: Settings) -> None:
        await recruiters.deactivate_recruiter(session, recruiter_id=recruiter_id, at=now(settings))

    run_in_transaction(work)
    typer.echo(f"recruiter {recruiter_id} deactivated")


def _save_and_show(save: Callable[..., Awaitable[Recruiter]], **arguments: Any) -> None:
    """Create or update a recruiter in one transaction, with the settings' numbering and clock;
    show the result."""

    async def work(session: AsyncSession, settings: Settings) -> Recruiter:
        numbering = recruiters.Numbering.of(settings)
        return await save(session, numbering=numbering, at=now(settings), **arguments)

    _show(run_in_transaction(work))


def _show(recruiter: Recruiter) -> None:
    state = "" if recruiter.active else "  (deactivated)"
    typer.echo(f"#{recruiter.id} {recruiter.name}{state}")
    typer.echo(f"    line {recruiter.line}  mobile {recruiter.mobile}  tz {recruiter.timezone}")
    extras = {
        "escalation": recruiter.escalation_number,
        "softphone": recruiter.client_identity,
        "hours": json.dumps(recruiter.working_hours) if recruiter.working_hours else None,
        "sms blocked": recruiter.sms_error_code,
        "pledge": f"/pledge/{recruiter.slug}" if recruiter.public_pledge else None,
        "caller text": None if recruiter.caller_text else "off",
        "template": recruiter.caller_text_template,
    }
    shown = "  ".join(f"{key} {value}" for key, value in extras.items() if value is not None)
    if shown:
        typer.echo(f"    {shown}")


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "never"
