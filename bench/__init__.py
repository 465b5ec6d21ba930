"""Benchmarks: real server, real PostgreSQL, figures printed (run with `make bench`)."""
