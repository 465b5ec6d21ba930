"""`callpledge webhook add/list/disable/enable/remove`: event subscriptions from the shell."""

from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from app.cli.support import (
    command_group,
    echo_listed,
    echo_secret_once,
    now,
    run_in_transaction,
)
from app.config import Settings
from app.models import WebhookSubscription
from app.webhooks import subscriptions
from app.webhooks.subscriptions import EVENT_TYPES, SubscriptionChange

webhook_cli = command_group("Event webhooks (Standard Webhooks, signed).")


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
            at=now(settings),
        )

    created = run_in_transaction(work)
    echo_secret_once(
        created.secret, note=f"webhook {created.id} added; the secret will not be shown again"
    )


@webhook_cli.command("list")
def webhook_list() -> None:
    """List subscriptions (never their secrets)."""

    echo_listed(subscriptions.list_all, empty="no webhooks", line=_webhook_line)


def _webhook_line(hook: WebhookSubscription) -> str:
    state = "enabled" if hook.enabled else f"disabled ({hook.disabled_reason})"
    return f"{hook.id:>4}  {hook.url}  {','.join(hook.event_types)}  {state}"


def _set_enabled(webhook_id: int, enabled: bool) -> None:
    async def work(session: AsyncSession, settings: Settings) -> WebhookSubscription:
        return await subscriptions.change(
            session,
            subscription_id=webhook_id,
            change=SubscriptionChange(enabled=enabled),
            allow_insecure=settings.allow_insecure_webhooks,
            at=now(settings),
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
