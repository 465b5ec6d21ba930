"""Obligations: open, merge, close, snooze, timeline, the queries ops run, SLA figures."""
