"""What every `callpledge` command shares: a one-line failure, the settings or exit 2, and
database trouble said in one line too."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from app import migrate
from app.config import ConfigError, Settings, load_settings
from app.db import database_problem, missing_sqlite_file
from app.phones import InvalidNumber, to_e164

UPGRADE_HINT = "run `callpledge db upgrade`"


def command_group(help: str, **options: Any) -> typer.Typer:
    """A Typer app whose tracebacks never print local variables (settings hold secrets)."""
    options = {"no_args_is_help": True} | options
    return typer.Typer(help=help, pretty_exceptions_show_locals=False, **options)


def fail(message: str, code: int = 2) -> NoReturn:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def settings_or_exit() -> Settings:
    """The settings, or a one-line error naming the bad variable and exit status 2."""
    try:
        return load_settings()
    except ConfigError as exc:
        fail(str(exc))


@contextmanager
def database_errors() -> Iterator[None]:
    """A database that cannot be reached, or refuses, ends the command with one line naming
    DATABASE_URL and exit status 2."""
    try:
        yield
    except (DBAPIError, PoolTimeoutError) as exc:
        fail(f"DATABASE_URL: {database_problem(exc)}")


def require_database(settings: Settings) -> None:
    """Go on only if the database exists; never create an empty SQLite file by looking."""
    missing = missing_sqlite_file(settings.database_url)
    if missing is not None:
        fail(f"DATABASE_URL: there is no database at {missing} yet; {UPGRADE_HINT}")


def number_option(raw: str, option: str, settings: Settings) -> str:
    """A phone number option (`--to`, `--line`…) in E.164, or a one-line error and exit 2."""
    try:
        return to_e164(raw, settings.default_region)
    except InvalidNumber as exc:
        fail(f"{option}: {exc}")


def require_schema(settings: Settings) -> None:
    """Go on only if the database has the schema this version needs."""
    require_database(settings)
    with database_errors():
        behind = migrate.pending(settings.database_url)
    if behind:
        fail(f"DATABASE_URL: the database schema is not this version's; {UPGRADE_HINT}")
