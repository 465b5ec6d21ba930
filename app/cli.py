"""The `callpledge` command."""

import logging
from typing import Annotated

import typer

from app import migrate
from app.cli_admin import recruiter_cli, token_cli
from app.cli_support import fail, settings_or_exit
from app.config import ConfigError

cli = typer.Typer(
    help="callpledge: every missed call is returned.", no_args_is_help=True, add_completion=False
)
db_cli = typer.Typer(help="Database migrations.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(token_cli, name="token")
cli.add_typer(recruiter_cli, name="recruiter")
log = logging.getLogger("callpledge")


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
    if not no_migrate:
        migrate.upgrade(settings.database_url)
    if settings.demo_mode:
        log.warning("demo mode: no TWILIO_AUTH_TOKEN; webhooks are checked with the demo token")
    app = create_app(settings)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=None,
        proxy_headers=True,
        server_header=False,
        access_log=True,
    )


@db_cli.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply Alembic migrations."""
    settings = settings_or_exit()
    migrate.upgrade(settings.database_url, revision)
    typer.echo(f"database at {revision}")


@db_cli.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target revision.")]) -> None:
    """Revert Alembic migrations down to a revision (`base` empties the schema)."""
    settings = settings_or_exit()
    migrate.downgrade(settings.database_url, revision)
    typer.echo(f"database at {revision}")


def main() -> None:
    cli()
