"""Twilio voice webhooks and their rules: forward, screen, voicemail, observe, callbacks."""
