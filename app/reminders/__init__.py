"""Nudges: when they fall due, what they say, digests and escalation."""
