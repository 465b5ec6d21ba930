"""The signed Twilio form as a FastAPI dependency: refused before the body is read when unsigned."""

import logging
from typing import Annotated

from fastapi import Depends, Request

from app.errors import AppError, Forbidden
from app.http.deps import RuntimeDep
from app.twilio.webhooks import TwilioParams, refuse_nul, signed_url, verify_signature

log = logging.getLogger(__name__)
FORM_TYPE = "application/x-www-form-urlencoded"


class UnsupportedMediaType(AppError, status=415, code="unsupported_media_type"):
    pass


async def twilio_params(request: Request, runtime: RuntimeDep) -> TwilioParams:
    """A dependency: the webhook's form, once its Twilio signature is verified. A request with
    no signature is refused before its body is looked at."""
    signature = request.headers.get("x-twilio-signature")
    try:
        if not signature:
            raise Forbidden("the X-Twilio-Signature header is missing")
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != FORM_TYPE:
            raise UnsupportedMediaType(f"Twilio webhooks are {FORM_TYPE}")
        form = await request.form()
        values = {key: [str(v) for v in form.getlist(key)] for key in form.keys()}
        query = request.scope.get("query_string", b"").decode("latin-1")
        url = signed_url(runtime.settings.public_base_url, request.url.path, query)
        verify_signature(runtime.validator, url, values, signature)
    except Forbidden:
        log.warning("rejected webhook %s: bad or missing signature", request.url.path)
        raise
    refuse_nul(values)
    return TwilioParams({key: items[0] for key, items in values.items()}, request.url.path)


TwilioParamsDep = Annotated[TwilioParams, Depends(twilio_params)]
