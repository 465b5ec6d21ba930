"""Outgoing Twilio work: the outbox, claims, sending, in-doubt look-ups and the worker loop."""
