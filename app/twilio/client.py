"""The twilio library's REST client, pointed at TWILIO_API_URL."""

from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from app.config import Settings

DEFAULT_API_URL = "https://api.twilio.com"
_TIMEOUT_SECONDS = 15


def build_client(settings: Settings) -> Client:
    """A client for the configured account; the blocking calls belong off the event loop."""
    custom_url = settings.twilio_api_url != DEFAULT_API_URL
    client = Client(
        settings.twilio_account_sid,
        settings.auth_token,
        http_client=TwilioHttpClient(timeout=_TIMEOUT_SECONDS),
        # A region or edge from the environment would rewrite a custom URL's host.
        environment={} if custom_url else None,
    )
    client.api.base_url = settings.twilio_api_url
    return client
