"""Twilio's SMS webhooks and the rules they call: recruiter commands, relays, delivery reports."""
