"""What every `callpledge` command shares: a one-line failure, and the settings or exit 2."""

from typing import NoReturn

import typer

from app.config import ConfigError, Settings, load_settings


def fail(message: str, code: int = 2) -> NoReturn:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def settings_or_exit() -> Settings:
    """The settings, or a one-line error naming the bad variable and exit status 2."""
    try:
        return load_settings()
    except ConfigError as exc:
        fail(str(exc))
