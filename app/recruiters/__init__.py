"""Recruiters, their lines and their working hours."""
