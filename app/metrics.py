"""Prometheus metrics. Labels carry kinds and outcomes, never a phone number or an id."""

from prometheus_client import Counter, Gauge

WEBHOOKS = Counter(
    "callpledge_webhooks_total",
    "Twilio webhooks received, by kind and outcome.",
    ["kind", "outcome"],
)
OBLIGATIONS_OPENED = Counter("callpledge_obligations_opened_total", "Obligations opened.")
OBLIGATIONS_CLOSED = Counter(
    "callpledge_obligations_closed_total", "Obligations closed, by reason.", ["reason"]
)
NUDGES = Counter(
    "callpledge_nudges_total", "Nudge SMS handed to Twilio or refused, by outcome.", ["outcome"]
)
OUTBOX_SENDS = Counter(
    "callpledge_outbox_sends_total",
    "Outbox send attempts, by kind and outcome.",
    ["kind", "outcome"],
)
OUTBOX_BACKLOG = Gauge(
    "callpledge_outbox_backlog", "Outbox items waiting to be sent (pending or in flight)."
)
WORKER_LAG = Gauge(
    "callpledge_worker_lag_seconds", "Age of the oldest due nudge or outbox item (0 if none)."
)
OBLIGATIONS_OVERDUE = Gauge(
    "callpledge_obligations_overdue", "Open obligations past their promised_by (at the scrape)."
)
