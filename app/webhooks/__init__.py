"""Outbound event webhooks: subscriptions, events written with the change they report,
fan-out with frozen bodies, and signed delivery (Standard Webhooks) by the worker."""
