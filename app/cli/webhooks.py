"""`callpledge webhook add/list/disable/enable/remove`: event subscriptions from the shell."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from app.cli.support import command_group, database_errors, fail, require_schema, settings_or_exit
from app.clock import clock_from_settings
from app.config import Settings
from app.db import create_async_db_engine, session_factory, unit_of_work
from app.errors import AppError
from app.models import WebhookSubscription
from app.webhooks import subscriptions
from app.webhooks.subscriptions import EVENT_TYPES, SubscriptionChange

webhook_cli = command_group("Event webhooks (Standard Webhooks, signed).")
T = TypeVar("T")


def run_in_transaction(work: Callable[[AsyncSession, Settings], Awaitable[T]]) -> T:
    """Run `work` in one transaction; an AppError is one line and exit 1."""
    settings = settings_or_exit()
    require_schema(settings)

    async def main() -> T:
        engine = create_async_db_engine(settings.database_url)
        try:
            async with unit_of_work(session_factory(engine)) as session:
                return await work(session, settings)
        finally:
            await engine.dispose()

    try:
        with database_errors():
            return asyncio.run(main())
    except AppError as exc:
        body = exc.body()
        fail(body if isinstance(body, str) else "; ".join(str(i["msg"]) for i in body), code=1)


@webhook_cli.command("add")
def webhook_add(
    url: Annotated[str, typer.Argument(help="The receiver, https:// (http:// on loopback).")],
    event: Annotated[
        list[str] | None,
        typer.Option("--event", "-e", help=f"Event type (repeat); default all: {EVENT_TYPES}"),
    ] = None,
    description: Annotated[str | None, typer.Option(help="A note for people.")] = None,
) -> None:
    """Subscribe URL and print its secret once (`whsec_…`)."""

    async def work(session: AsyncSession, settings: Settings) -> WebhookSubscription:
        return await subscriptions.create(
            session,
            url=url,
            event_types=event or list(EVENT_TYPES),
            description=description,
            allow_insecure=settings.allow_insecure_webhooks,
            at=clock_from_settings(settings.callpledge_clock_file).now(),
        )

    created = run_in_transaction(work)
    typer.echo(created.secret)
    typer.echo(f"webhook {created.id} added; the secret will not be shown again", err=True)


@webhook_cli.command("list")
def webhook_list() -> None:
    """List subscriptions (never their secrets)."""

    async def work(session: AsyncSession, _settings: Settings) -> list[WebhookSubscription]:
        return list(await subscriptions.list_all(session))

    found = run_in_transaction(work)
    if not found:
        typer.echo("no webhooks")
    for hook in found:
        state = "enabled" if hook.enabled else f"disabled ({hook.disabled_reason})"
        typer.echo(f"{hook.id:>4}  {hook.url}  {','.join(hook.event_types)}  {state}")


def _set_enabled(webhook_id: int, enabled: bool) -> None:
    async def work(session: AsyncSession, settings: Settings) -> WebhookSubscription:
        return await subscriptions.change(
            session,
            subscription_id=webhook_id,
            change=SubscriptionChange(enabled=enabled),
            allow_insecure=settings.allow_insecure_webhooks,
            at=clock_from_settings(settings.callpledge_clock_file).now(),
        )

    run_in_transaction(work)
    typer.echo(f"webhook {webhook_id} {'enabled' if enabled else 'disabled'}")


@webhook_cli.command("disable")
def webhook_disable(webhook_id: Annotated[int, typer.Argument(help="The webhook's id.")]) -> None:
    """Stop delivering to a subscription (its deliveries wait)."""
    _set_enabled(webhook_id, False)


@webhook_cli.command("enable")
def webhook_enable(webhook_id: Annotated[int, typer.Argument(help="The webhook's id.")]) -> None:
    """Deliver again (clears the reason it was disabled)."""
    _set_enabled(webhook_id, True)


@webhook_cli.command("remove")
def webhook_remove(webhook_id: Annotated[int, typer.Argument(help="The webhook's id.")]) -> None:
    """Delete a subscription and its delivery log."""

    async def work(session: AsyncSession, _settings: Settings) -> None:
        await subscriptions.remove(session, subscription_id=webhook_id)

    run_in_transaction(work)
    typer.echo(f"webhook {webhook_id} removed")
