"""`callpledge simulate …`: play Twilio against a running service and show what happened.

Requests are signed as Twilio signs them, with the auth token (or the demo token) and
PUBLIC_BASE_URL of these settings, so run it with the service's settings. Numbers are
shown in full: this is the operator's own terminal, not a log.
"""

import asyncio
import functools
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Annotated, Any, NoReturn

import httpx
import typer

from app.cli.simulate_view import (
    after_call,
    forwarded,
    show_callback,
    show_exchanges,
    show_obligation,
    show_sent,
    show_what_follows,
)
from app.cli.support import (
    command_group,
    fail,
    number_option,
    settings_or_exit,
    signature_with,
)
from app.config import Settings
from app.phones import for_people, is_withheld
from app.simulator import scenarios
from app.simulator.exchange import CallScript, FlowError, RecruiterDoes
from app.simulator.recruiter import send_text
from app.simulator.service_view import ApiRefused, ObligationState, View, open_view
from app.simulator.twilio import TwilioSimulator

simulate_cli = command_group(
    "Play Twilio's part against a running service: calls, callbacks and SMS."
)


class CallbackStatus(StrEnum):
    COMPLETED = "completed"
    NO_ANSWER = "no-answer"
    BUSY = "busy"


class Pickup(StrEnum):
    """What the recruiter's mobile does when the line forwards a call, as --recruiter names it
    (an enum, not a Literal: Typer took Literal option types only in recent releases)."""

    NO_ANSWER = "no-answer"
    BUSY = "busy"
    DECLINES = "declines"
    CARRIER_VOICEMAIL = "carrier-voicemail"


_PICKUP = {
    Pickup.NO_ANSWER: RecruiterDoes.NO_ANSWER,
    Pickup.BUSY: RecruiterDoes.BUSY,
    Pickup.DECLINES: RecruiterDoes.DECLINES,
    Pickup.CARRIER_VOICEMAIL: RecruiterDoes.CARRIER_VOICEMAIL,
}
Url = Annotated[
    str | None,
    typer.Option("--url", help="Where the service listens. (default: PUBLIC_BASE_URL)"),
]
Token = Annotated[
    str | None,
    typer.Option(
        "--token",
        help="Ops API token to read obligations with (default: the first of API_TOKENS; "
        "without one, the database at DATABASE_URL is read).",
    ),
]
Scenario = Callable[[TwilioSimulator, View, Settings], Awaitable[None]]
Number = Callable[[str, Settings], str]  # reads a phone number option, or fails naming it
_SERVICE = {"url": Url, "token": Token}


def _plays(name: str, **numbers: Number) -> Callable[[Callable[..., Scenario]], Any]:
    """Declare `simulate NAME`: the command's options make the scenario that is played against
    the service at --url, reading obligations with --token; `numbers` read its phone numbers
    first (before anything is reached)."""

    def declare(command: Callable[..., Scenario]) -> Any:
        @functools.wraps(command)
        def play(*, url: str | None, token: str | None, **options: Any) -> None:
            settings = settings_or_exit()
            options |= {key: read(options[key], settings) for key, read in numbers.items()}
            _play(settings, url, token, command(**options))

        play.__signature__ = signature_with(command, _SERVICE)  # type: ignore[attr-defined]
        return simulate_cli.command(name)(play)

    return declare


def _number(option: str) -> Number:
    return lambda raw, settings: number_option(raw, option, settings)


def _caller(raw: str, settings: Settings) -> str:
    return raw.strip() if is_withheld(raw) else number_option(raw, "--from", settings)


_FROM, _TO = _number("--from"), _number("--to")


@_plays("missed-call", caller=_caller, line=_TO)
def missed_call(
    caller: Annotated[str, typer.Option("--from", help="The caller's number, or 'anonymous'.")],
    line: Annotated[str, typer.Option("--to", help="The recruiter's line.")],
    voicemail: Annotated[
        str | None, typer.Option(help="What the caller says after the tone (default: hangs up).")
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="The caller's name (Twilio's CallerName).")
    ] = None,
    recruiter: Annotated[Pickup, typer.Option(help="What the recruiter's mobile does.")] = (
        Pickup.NO_ANSWER
    ),
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait for the first nudge SMS and show it.")
    ] = False,
) -> Scenario:
    """A call the recruiter does not take: it becomes an obligation (and, later, nudges)."""

    async def scenario(twilio: TwilioSimulator, view: View, settings: Settings) -> None:
        mark = await view.database.outbox_mark() if view.database else 0
        typer.echo(_ringing(caller, line, name))
        record = await twilio.call(
            CallScript(
                caller=caller,
                line=line,
                recruiter=_PICKUP[recruiter],
                message=voicemail,
                caller_name=name,
            )
        )
        show_exchanges(record, voicemail)
        if not forwarded(record, line):
            return
        state = await after_call(view, line=line, call_sid=record.call_sid, settings=settings)
        if state is not None and state.status == "open":
            await show_what_follows(view, state, mark=mark, wait=wait, settings=settings)

    return scenario


@_plays("answered-call", caller=_FROM, line=_TO)
def answered_call(
    caller: Annotated[str, typer.Option("--from", help="The caller's number.")],
    line: Annotated[str, typer.Option("--to", help="The recruiter's line.")],
) -> Scenario:
    """A call the recruiter takes (picks up, presses 1): the caller's open obligation closes."""

    async def scenario(twilio: TwilioSimulator, view: View, settings: Settings) -> None:
        before = await _latest(view, line=line, caller=caller)
        typer.echo(_ringing(caller, line, None))
        record = await twilio.call(
            CallScript(caller=caller, line=line, recruiter=RecruiterDoes.ACCEPTS)
        )
        show_exchanges(record)
        if not forwarded(record, line):
            return
        taken = "the recruiter pressed 1: the call is connected"
        typer.echo(taken if record.bridged else "the call was not connected")
        if view.obligations is None:
            return
        if before is None or before.status != "open":
            typer.echo(f"No obligation for {for_people(caller)} was open: there was none to close.")
            return
        show_obligation(await view.obligations.by_id(before.id), settings)

    return scenario


@_plays("callback", line=_FROM, callee=_TO)
def callback(
    line: Annotated[str, typer.Option("--from", help="The recruiter's line, calling out.")],
    callee: Annotated[str, typer.Option("--to", help="The number called back.")],
    status: Annotated[
        CallbackStatus, typer.Option(help="How the call ended.")
    ] = CallbackStatus.COMPLETED,
) -> Scenario:
    """The recruiter calls someone back from their line, reported to /twilio/voice/status."""

    async def scenario(twilio: TwilioSimulator, view: View, settings: Settings) -> None:
        before = await _latest(view, line=line, caller=callee)
        typer.echo(f"Line {for_people(line)} calls {for_people(callee)}: {status.value}")
        exchange = await scenarios.callback(twilio, line=line, callee=callee, status=status.value)
        _check(exchange.status_code, exchange.request.url, settings)
        typer.secho(f"  POST /twilio/voice/status  {exchange.status_code}", dim=True)
        after = await _latest(view, line=line, caller=callee)
        show_callback(before, after, view, settings)

    return scenario


@_plays("sms-reply", sender=_FROM, line=_TO)
def sms_reply(
    body: Annotated[str, typer.Argument(help='The text, e.g. "DONE 3", "SNOOZE 3 2h", "LIST".')],
    sender: Annotated[str, typer.Option("--from", help="Who texts: the recruiter's mobile.")],
    line: Annotated[str, typer.Option("--to", help="The line texted.")],
) -> Scenario:
    """An SMS to a line, e.g. the recruiter's reply to a nudge; shows the service's answer."""

    async def scenario(twilio: TwilioSimulator, view: View, settings: Settings) -> None:
        mark = await view.database.outbox_mark() if view.database else 0
        typer.echo(f"SMS from {for_people(sender)} to line {for_people(line)}: {body!r}")
        exchange = await send_text(twilio, sender=sender, line=line, body=body)
        if exchange.status_code == 404:
            fail("this service takes no SMS (it has no /twilio/sms/incoming)", code=1)
        _check(exchange.status_code, exchange.request.url, settings)
        replies = scenarios.reply_of(exchange).messages
        for text in replies:
            typer.secho(f"The service replies by SMS:\n  | {text}", fg=typer.colors.CYAN)
        if not replies:
            typer.echo("The service sends no reply.")
        mentioned = scenarios.obligation_mentioned(body)
        if mentioned is not None and view.obligations is not None:
            show_obligation(await view.obligations.by_id(mentioned), settings)
        if view.database is not None:
            show_sent(await view.database.sent_after(mark))

    return scenario


def _play(settings: Settings, url: str | None, token: str | None, scenario: Scenario) -> None:
    """Run a scenario against the service at `url`, turning failures into one-line errors."""
    base = url or settings.public_base_url
    token = token or (settings.api_tokens[0].get_secret_value() if settings.api_tokens else None)

    async def main() -> None:
        async with (
            httpx.AsyncClient(base_url=base, timeout=30) as http,
            open_view(settings, url=base, token=token) as view,
        ):
            await scenario(scenarios.simulator(http, settings), view, settings)

    try:
        asyncio.run(main())
    except httpx.TransportError:
        fail(f"nothing answers at {base}: is the service running (make run)?", code=1)
    except FlowError as exc:
        if exc.status_code == 403:
            _refused(base, settings)
        fail(f"the service answered what Twilio could not play: {exc}", code=1)
    except ApiRefused as exc:
        fail(f"the ops API refused the request ({exc}): check --token or API_TOKENS", code=1)


def _check(status: int, url: str, settings: Settings) -> None:
    """Exit with a one-line error unless a webhook's answer was a success."""
    if status == 403:
        _refused(url, settings)
    if status >= 400:
        fail(f"{url} answered {status}", code=1)


def _refused(url: str, settings: Settings) -> NoReturn:
    token = "the demo token" if settings.demo_mode else "TWILIO_AUTH_TOKEN"
    fail(
        f"{url} refused the signature: simulate signs for PUBLIC_BASE_URL="
        f"{settings.public_base_url} with {token}; run it with the service's settings",
        code=1,
    )


async def _latest(view: View, *, line: str, caller: str) -> ObligationState | None:
    """The latest obligation of `caller` on `line`, if the ops API or database can be read."""
    return await view.obligations.latest(line=line, caller=caller) if view.obligations else None


def _ringing(caller: str, line: str, name: str | None) -> str:
    who = caller if is_withheld(caller) else for_people(caller)
    return f"{who}{f' ({name})' if name else ''} calls line {for_people(line)}"
