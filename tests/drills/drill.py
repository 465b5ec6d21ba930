"""The bad-input drill's tools: a route's webhooks sent with variations, and a look at
every table between requests, so a refused request is seen to write nothing."""

import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from sqlalchemy import Connection, func, select

from app.models import Call, Obligation
from tests.drills.webhooks import (
    E164,
    Example,
    Ids,
    assert_error_shape,
    assert_twiml,
    snapshot,
)
from tests.support.signer import TwilioSigner

_sids = itertools.count(1)


class Drill:
    """Sends one route's webhooks, variations of its example, and checks each answer."""

    def __init__(
        self, client: httpx.AsyncClient, signer: TwilioSigner, ids: Ids, example: Example
    ) -> None:
        self.client, self.signer = client, signer
        self.path, self.params = ids.fill(example)
        self.example = example
        self.tried = 0
        client.event_hooks["request"].append(self._count)

    async def _count(self, _request: httpx.Request) -> None:
        self.tried += 1

    def fresh(self, **changes: str) -> dict[str, str]:
        """The example with new SIDs (so every case is a first delivery) and `changes`."""
        params = {
            key: f"{value[:2]}{next(_sids):032d}"
            if key.endswith("Sid") and key != "AccountSid"
            else value
            for key, value in self.params.items()
        }
        return params | changes

    async def post(
        self,
        params: dict[str, str],
        *,
        path: str | None = None,
        signed_path: str | None = None,
        signed_params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """POST `params` to `path`, signed for `signed_path` and `signed_params` (default:
        as sent)."""
        path = path or self.path
        signature = self.signer.headers(
            signed_path or path, params if signed_params is None else signed_params
        )
        return await self.client.post(path, data=params, headers=signature | (headers or {}))


class Tables:
    """One connection to the test database, for looking between requests."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._last: dict[str, list[tuple[Any, ...]]] | None = None

    def before(self) -> dict[str, list[tuple[Any, ...]]]:
        """The rows as the last request left them (every request here goes through
        `refused` or `survives`, which look after each one)."""
        return self._last if self._last is not None else self.after()

    def after(self) -> dict[str, list[tuple[Any, ...]]]:
        self._last = snapshot(self.connection)
        return self._last

    def assert_sane(self) -> None:
        """What any webhook may leave: callers in E.164 (or withheld), call-log numbers clipped."""
        callers = self.connection.scalars(select(Obligation.caller)).all()
        assert all(c is None or E164.fullmatch(c) for c in callers), callers
        longest = self.connection.scalar(
            select(func.max(func.length(Call.from_number) + func.length(Call.to_number)))
        )
        self.connection.rollback()
        assert (longest or 0) <= 2 * 128


async def refused(
    drill: Drill,
    tables: Tables,
    status: int,
    code: str,
    request: Callable[[], Awaitable[httpx.Response]],
    *,
    naming: str | None = None,
) -> dict[str, Any]:
    """The request answers `status` with error `code` (naming a field) and writes nothing."""
    before = tables.before()
    response = await request()
    assert response.status_code == status, (response.status_code, response.text[:300])
    body = assert_error_shape(response)
    assert body["error"] == code, body
    if naming is not None:
        assert naming in str(body["detail"]), body
    assert tables.after() == before, "a refused webhook wrote to the database"
    return body


async def survives(
    drill: Drill, tables: Tables, params: dict[str, str], *, path: str | None = None
) -> httpx.Response:
    """A signed webhook with odd values: answered normally (TwiML that parses, if any) or
    refused cleanly, never a 5xx."""
    before = tables.before()
    response = await drill.post(params, path=path)
    assert response.status_code < 500, (response.status_code, response.text[:300])
    after = tables.after()
    if response.status_code >= 400:
        assert_error_shape(response)
        assert after == before, "a refused webhook wrote to the database"
    elif response.headers.get("content-type", "").startswith("text/xml"):
        assert_twiml(response)
    return response
