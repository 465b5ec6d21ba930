"""Fixtures of the fault drills: a private PostgreSQL server they may stop and start."""

from tests.support.private_postgres import private_postgres

__all__ = ["private_postgres"]
