"""What every `callpledge` command shares: a one-line failure, the settings or exit 2, and
database trouble said in one line too."""

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, NoReturn, TypeVar

import typer
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncSession

from app import migrate
from app.clock import clock_from_settings
from app.config import ConfigError, Settings, load_settings
from app.db import (
    create_async_db_engine,
    database_problem,
    missing_sqlite_file,
    session_factory,
    unit_of_work,
)
from app.errors import AppError
from app.phones import InvalidNumber, to_e164

UPGRADE_HINT = "run `callpledge db upgrade`"


def command_group(help: str, **options: Any) -> typer.Typer:
    """A Typer app whose tracebacks never print local variables (settings hold secrets)."""
    options = {"no_args_is_help": True} | options
    return typer.Typer(help=help, pretty_exceptions_show_locals=False, **options)


def signature_with(
    command: Callable[..., Any], options: Mapping[str, Any], *, less: str | None = None
) -> inspect.Signature:
    """`command`'s signature for Typer (less its parameter `less`), then `options` (name: its
    Annotated type), each None by default: options several commands share, declared once."""
    own = [param for param in inspect.signature(command).parameters.values() if param.name != less]
    shared = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=kind)
        for name, kind in options.items()
    ]
    return inspect.Signature([*own, *shared])


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


T = TypeVar("T")


def run_in_transaction(work: Callable[[AsyncSession, Settings], Awaitable[T]]) -> T:
    """Run `work` in one transaction; an AppError becomes a one-line error and exit 1, a
    database problem one and exit 2."""
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
        fail(_message(exc), code=1)


def _message(exc: AppError) -> str:
    body = exc.body()
    return body if isinstance(body, str) else "; ".join(str(item["msg"]) for item in body)


def now(settings: Settings) -> datetime:
    """The settings' clock's "now" (a test's shared clock file, else the real one)."""
    return clock_from_settings(settings.callpledge_clock_file).now()


def echo_secret_once(secret: str, *, note: str) -> None:
    """Print a new secret on stdout and, on stderr, that it will not be shown again."""
    typer.echo(secret)
    typer.echo(note, err=True)


def echo_listed(
    listing: Callable[[AsyncSession], Awaitable[Sequence[T]]],
    *,
    empty: str,
    line: Callable[[T], str],
) -> None:
    """List in one transaction and print one line a row, or `empty` when there are none."""

    async def work(session: AsyncSession, _settings: Settings) -> Sequence[T]:
        return await listing(session)

    rows = run_in_transaction(work)
    if not rows:
        typer.echo(empty)
    for row in rows:
        typer.echo(line(row))
