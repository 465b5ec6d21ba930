"""Playing Twilio's part against a running service: calls, a recruiter's phone, scenarios."""
