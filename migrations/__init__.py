"""Alembic migrations, shipped as a package so an installed service can upgrade itself."""
