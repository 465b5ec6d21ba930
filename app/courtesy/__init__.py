"""Caller courtesy: the promise to call back by a time, and the caller's side of it.

A new obligation with a caller number opens `pending`; one worker pass (`opening`) sets its
`promised_by` and queues at most one text-back in the outbox, which the worker sends with
the same claim, in-doubt and retry rules as nudges. Opt-outs are kept per line.
"""
