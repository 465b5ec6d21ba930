"""Signs webhooks exactly as Twilio does, with twilio's own RequestValidator."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from twilio.request_validator import RequestValidator


@dataclass
class TwilioSigner:
    auth_token: str
    public_base_url: str

    def signature(self, path_and_query: str, params: Mapping[str, Any]) -> str:
        url = self.public_base_url.rstrip("/") + path_and_query
        form = {key: str(value) for key, value in params.items()}
        return str(RequestValidator(self.auth_token).compute_signature(url, form))

    def headers(self, path_and_query: str, params: Mapping[str, Any]) -> dict[str, str]:
        return {"X-Twilio-Signature": self.signature(path_and_query, params)}

    def to_path(self, url: str) -> str:
        """The path and query of an absolute URL the service handed to Twilio."""
        parsed = httpx.URL(url)
        assert url.startswith(self.public_base_url), f"{url} is not under {self.public_base_url}"
        query = parsed.query.decode()
        return parsed.path + (f"?{query}" if query else "")


async def post_webhook(
    client: httpx.AsyncClient, signer: TwilioSigner, path_or_url: str, params: Mapping[str, Any]
) -> httpx.Response:
    """POST a signed, form-encoded webhook as Twilio would."""
    path = signer.to_path(path_or_url) if "://" in path_or_url else path_or_url
    form = {key: str(value) for key, value in params.items()}
    return await client.post(path, data=form, headers=signer.headers(path, form))
