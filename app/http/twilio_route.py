"""The signed Twilio webhooks, served without FastAPI's per-request machinery.

An ASGI middleware in front of the application takes the POSTs to the /twilio/ routes
whose endpoints need only the signed form, the request's transaction, the runtime and
the request itself. It does what the dependencies and middleware did for them, in one
pass: refuse an unsigned request (403) before its body is read, count the body as it
streams (413), parse the form once, check the signature once, and call the same
endpoint in the same transaction. Errors go through the application's own handlers, so
their shapes are unchanged. Any other request, and any route that needs more (query
validation), goes on to FastAPI as before; the routes stay registered there too.
"""

import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import Forbidden, error_response
from app.http.deps import get_clock, get_runtime, get_settings, request_transaction
from app.http.limits import MAX_BODY_BYTES
from app.http.twilio_params import FORM_TYPE, UnsupportedMediaType, twilio_params
from app.runtime import Runtime
from app.twilio.webhooks import TwilioParams, refuse_nul, signed_url

log = logging.getLogger(__name__)
_MAX_FIELDS = 1000  # Starlette's form parser refuses more
_transaction = asynccontextmanager(request_transaction)
# What each dependency of a lean endpoint is, given the runtime.
_PLAIN: dict[Callable[..., Any], Callable[[Runtime], Any]] = {
    get_runtime: lambda runtime: runtime,
    get_clock: lambda runtime: runtime.clock,
    get_settings: lambda runtime: runtime.settings,
}


class _TooLarge(Exception):
    """The body passed the limit while it streamed in."""


@dataclass(frozen=True)
class Webhook:
    """A route's endpoint and how to fill in its arguments."""

    endpoint: Callable[..., Awaitable[Response]]
    params: str | None  # the argument names of the signed form, the session, the request
    session: str | None
    request: str | None
    plain: tuple[tuple[str, Callable[[Runtime], Any]], ...]
    # Values read off the request by a dependency of its own (an id in the signed URL),
    # after the signature is checked, as FastAPI runs them in the order declared.
    of_request: tuple[tuple[str, Callable[[Request], Awaitable[Any]]], ...] = ()

    @classmethod
    def of(cls, route: APIRoute) -> "Webhook | None":
        """The lean form of `route`, or None when it needs FastAPI (parameters to validate)."""
        dependant = route.dependant
        if _takes_parameters(dependant):
            return None
        answer = inspect.signature(route.endpoint).return_annotation
        if not (isinstance(answer, type) and issubclass(answer, Response)):
            return None  # FastAPI would serialize what it returns
        named: dict[Any, str] = {}
        plain = []
        of_request: list[tuple[str, Callable[[Request], Awaitable[Any]]]] = []
        for dependency in dependant.dependencies:
            if dependency.name is None:
                return None  # a route-level dependency, run for its effect
            if dependency.call in _PLAIN:
                plain.append((dependency.name, _PLAIN[dependency.call]))
            elif dependency.call in (twilio_params, request_transaction):
                named[dependency.call] = dependency.name
            elif dependency.call and _reads_only_the_request(dependency) and twilio_params in named:
                of_request.append((dependency.name, dependency.call))
            else:
                return None
        return cls(
            endpoint=route.endpoint,
            params=named.get(twilio_params),
            session=named.get(request_transaction),
            request=dependant.request_param_name,
            plain=tuple(plain),
            of_request=tuple(of_request),
        )


def _reads_only_the_request(dependant: Dependant) -> bool:
    """An async dependency whose one argument is the request."""
    return (
        inspect.iscoroutinefunction(dependant.call)
        and dependant.request_param_name is not None
        and not dependant.dependencies
        and not _takes_parameters(dependant)
    )


def _takes_parameters(dependant: Dependant) -> bool:
    """Whether FastAPI would validate parameters for it (path, query, header, cookie, body)."""
    return bool(
        dependant.path_params
        or dependant.query_params
        or dependant.header_params
        or dependant.cookie_params
        or dependant.body_params
    )


def lean_webhooks(routes: Iterable[BaseRoute]) -> dict[str, Webhook]:
    """The POST routes under /twilio/ that the lean layer serves, by path."""
    table = {}
    for route in routes:
        if isinstance(route, APIRoute) and route.methods == {"POST"}:
            webhook = Webhook.of(route)
            if webhook is not None and route.path.startswith("/twilio/"):
                table[route.path] = webhook
    return table


class TwilioWebhooks:
    """ASGI middleware: serve the lean /twilio/ webhooks, pass everything else on."""

    def __init__(self, app: ASGIApp, routes: Iterable[BaseRoute]) -> None:
        self.app = app
        self.webhooks = lean_webhooks(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        webhook = None
        if scope["type"] == "http" and scope["method"] == "POST" and not scope.get("root_path"):
            webhook = self.webhooks.get(scope["path"])
        if webhook is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await _serve(webhook, request, scope["app"].state.runtime)
        except _TooLarge:
            response = _too_large()
        except Exception as exc:
            response = await _handled(request, exc)
        await response(scope, receive, send)


async def _serve(webhook: Webhook, request: Request, runtime: Runtime) -> Response:
    """What FastAPI did for the endpoint: its dependencies, its transaction, its call."""
    arguments = {name: provide(runtime) for name, provide in webhook.plain}
    if webhook.request is not None:
        arguments[webhook.request] = request
    if webhook.params is not None:
        arguments[webhook.params] = await signed_params(request, runtime)
    for name, read in webhook.of_request:
        arguments[name] = await read(request)
    if webhook.session is None:
        return await webhook.endpoint(**arguments)
    async with _transaction(request, runtime) as session:
        arguments[webhook.session] = session
        return await webhook.endpoint(**arguments)


async def signed_params(request: Request, runtime: Runtime) -> TwilioParams:
    """The webhook's form once its signature checks out (`twilio_params`, in one pass)."""
    path = request.scope["path"]
    # The last Content-Length, as BodySizeLimit reads it; the first of any other header.
    declared = dict(request.scope["headers"]).get(b"content-length", b"0")
    headers = _headers(request.scope)
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _TooLarge
    signature = headers.get(b"x-twilio-signature", b"").decode("latin-1")
    if not signature:
        log.warning("rejected webhook %s: bad or missing signature", path)
        raise Forbidden("the X-Twilio-Signature header is missing")
    content_type = headers.get(b"content-type", b"").decode("latin-1")
    if content_type.split(";")[0].strip().lower() != FORM_TYPE:
        raise UnsupportedMediaType(f"Twilio webhooks are {FORM_TYPE}")
    values = _form(await _body(request.receive))
    query = request.scope["query_string"].decode("latin-1")
    url = signed_url(runtime.settings.public_base_url, path, query)
    if not runtime.signatures.valid(url, values, signature):
        log.warning("rejected webhook %s: bad or missing signature", path)
        raise Forbidden("the X-Twilio-Signature header is missing or does not match")
    refuse_nul(values)
    return TwilioParams({key: items[0] for key, items in values.items()}, path)


def _headers(scope: Scope) -> dict[bytes, bytes]:
    """The request's headers (the first of each name, as Starlette's `Headers.get`)."""
    headers: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        headers.setdefault(name, value)
    return headers


async def _body(receive: Receive) -> bytes:
    """The whole body, refused once it passes the limit (Content-Length can lie)."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _form(body: bytes) -> dict[str, list[str]]:
    """Every value of every field, decoded as Starlette's form parser decodes them."""
    values: dict[str, list[str]] = {}
    pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True)
    if len(pairs) > _MAX_FIELDS:
        raise _unreadable(f"Too many fields. Maximum number of fields is {_MAX_FIELDS}.")
    for name, value in pairs:
        values.setdefault(name, []).append(value)
    return values


def _unreadable(message: str) -> Exception:
    """What Starlette raises for a form it will not parse (answered 422 `body_unreadable`)."""
    return HTTPException(400, message)


def _too_large() -> Response:
    detail = f"the request body is larger than {MAX_BODY_BYTES} bytes"
    return error_response(413, "payload_too_large", detail, {"Connection": "close"})


async def _handled(request: Request, exc: Exception) -> Response:
    """The application's own answer to `exc`; anything unforeseen goes on to its 500."""
    handlers = request.app.exception_handlers
    for kind in type(exc).__mro__:
        if kind is Exception:
            break
        if kind in handlers:
            response: Response = await handlers[kind](request, exc)
            return response
    raise exc
