"""The `callpledge` command."""

import asyncio
import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Annotated, Any

import typer
from alembic.util import CommandError

from app import migrate
from app.cli.admin import recruiter_cli, token_cli
from app.cli.care import erase, export
from app.cli.reconcile import reconcile
from app.cli.simulate import simulate_cli
from app.cli.support import (
    command_group,
    database_errors,
    fail,
    require_database,
    require_schema,
    settings_or_exit,
)
from app.cli.twilio_setup import twilio_cli
from app.cli.webhooks import webhook_cli
from app.config import ConfigError
from app.outbox.lock import WorkerLockHeld, single_worker

cli = command_group("callpledge: every missed call is returned.", add_completion=False)
db_cli = command_group("Database migrations.")
cli.add_typer(db_cli, name="db")
cli.add_typer(token_cli, name="token")
cli.add_typer(recruiter_cli, name="recruiter")
cli.add_typer(simulate_cli, name="simulate")
cli.add_typer(twilio_cli, name="twilio")
cli.command()(reconcile)
cli.add_typer(webhook_cli, name="webhook")
cli.command()(export)
cli.command()(erase)
log = logging.getLogger("callpledge")
# How `serve` runs uvicorn: our own logging (masked), the client's address from the proxy in
# front, no Server header, and an access log (its query strings dropped by our filter).
_UVICORN_OPTIONS: dict[str, Any] = {
    "log_config": None,
    "proxy_headers": True,
    "server_header": False,
    "access_log": True,
}


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    no_worker: Annotated[bool, typer.Option("--no-worker", help="Do not run the worker.")] = False,
    no_migrate: Annotated[
        bool, typer.Option("--no-migrate", help="Do not apply migrations at start.")
    ] = False,
) -> None:
    """Run the HTTP service (with the reminder worker inside, unless --no-worker)."""
    import uvicorn

    from app.logs import configure_logging
    from app.main import create_app

    settings = settings_or_exit()
    try:
        settings.check_bind(host)
    except ConfigError as exc:
        fail(str(exc))
    configure_logging()
    with ExitStack() as stack:
        with database_errors():
            if not no_worker:
                # Taken before anything starts, so a second worker on SQLite is refused cleanly.
                _hold_worker_lock(stack, settings.database_url)
            if not no_migrate:
                migrate.upgrade(settings.database_url)
        if settings.demo_mode:
            log.warning("demo mode: no TWILIO_AUTH_TOKEN; webhooks are checked with the demo token")
        app = create_app(settings, run_worker=not no_worker, warm_database=True)
        uvicorn.run(app, host=host, port=port, **_UVICORN_OPTIONS)


@cli.command()
def worker() -> None:
    """Run only the reminder worker (on SQLite exactly one may run)."""
    from app.logs import configure_logging
    from app.outbox.worker import run_worker

    settings = settings_or_exit()
    require_schema(settings)
    configure_logging()
    with ExitStack() as stack:
        _hold_worker_lock(stack, settings.database_url)
        asyncio.run(run_worker(settings))


@db_cli.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply Alembic migrations."""
    settings = settings_or_exit()
    with database_errors(), _revision_errors():
        migrate.upgrade(settings.database_url, revision)
    typer.echo(f"database at {revision}")


@db_cli.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target revision.")]) -> None:
    """Revert Alembic migrations down to a revision (`base` empties the schema)."""
    settings = settings_or_exit()
    require_database(settings)
    with database_errors(), _revision_errors():
        migrate.downgrade(settings.database_url, revision)
    typer.echo(f"database at {revision}")


def _hold_worker_lock(stack: ExitStack, database_url: str) -> None:
    try:
        stack.enter_context(single_worker(database_url))
    except WorkerLockHeld as exc:
        fail(str(exc))
    except OSError as exc:  # it goes beside the SQLite file, whose folder may be missing
        fail(f"DATABASE_URL: cannot create the worker lock {exc.filename}: {exc.strerror}")


@contextmanager
def _revision_errors() -> Iterator[None]:
    """Alembic's own complaints (an unknown revision, say) in one line."""
    try:
        yield
    except CommandError as exc:
        fail(str(exc))


def main() -> None:
    cli()
