"""Reconciliation: restore from Twilio's records what the service never heard of."""
