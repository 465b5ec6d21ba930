"""Delivering: claim, commit, POST, record — never a transaction across the HTTP call.

A failed attempt comes back after 5 s, doubling up to 2 h, for 24 h from the event; a
subscription whose every delivery failed for WEBHOOK_DISABLE_AFTER_DAYS is disabled, with
the reason on it. A delivery a crashed worker left `sending` is taken again after its
lease: at-least-once, under the same `webhook-id`.
"""

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.clock import Clock
from app.db import unit_of_work
from app.models import WebhookDelivery, WebhookDeliveryStatus, WebhookSubscription
from app.webhooks import signing

TIMEOUT_SECONDS = 10.0
FIRST_BACKOFF = timedelta(seconds=5)
MAX_BACKOFF = timedelta(hours=2)
LEASE = timedelta(seconds=60)  # far longer than one attempt (10 s timeout)
BATCH = 20
USER_AGENT = "callpledge-webhooks/1"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claimed:
    delivery_id: int
    subscription_id: int
    url: str
    secret: str
    message_id: str
    body: str
    claimed_at: datetime


@dataclass(frozen=True)
class Answer:
    claimed: Claimed
    status: int | None  # the receiver's HTTP status; None when there was no answer
    error: str | None  # None: delivered


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt."""
    wait: timedelta = FIRST_BACKOFF * 2 ** min(max(attempts - 1, 0), 20)
    return min(wait, MAX_BACKOFF)


class WebhookSender:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        clock: Clock,
        disable_after: timedelta,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.disable_after = disable_after
        self.timeout = timeout

    async def send_due(self) -> int:
        """Claim a batch of due deliveries, POST them concurrently, record the answers."""
        batch = await self._claim()
        if not batch:
            return 0
        async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False) as http:
            answers = await asyncio.gather(*(self._post(http, c) for c in batch))
        await self._record(answers)
        return len(answers)

    async def _claim(self) -> list[Claimed]:
        now = self.clock.now()
        due = or_(
            (WebhookDelivery.status == WebhookDeliveryStatus.PENDING)
            & (WebhookDelivery.next_attempt_at <= now),
            (WebhookDelivery.status == WebhookDeliveryStatus.SENDING)
            & (WebhookDelivery.claimed_at < now - LEASE),
        )
        statement = (
            select(WebhookDelivery, WebhookSubscription.url, WebhookSubscription.secret)
            .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
            .where(due, WebhookSubscription.enabled == true())
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True, of=WebhookDelivery)
        )
        async with unit_of_work(self.sessions) as session:
            rows = (await session.execute(statement)).all()
            for delivery, _url, _secret in rows:
                delivery.status = WebhookDeliveryStatus.SENDING
                delivery.claimed_at = now
        return [
            Claimed(d.id, d.subscription_id, url, secret, d.message_id, d.body, now)
            for d, url, secret in rows
        ]

    async def _post(self, http: httpx.AsyncClient, claimed: Claimed) -> Answer:
        body = claimed.body.encode()
        stamp = int(self.clock.now().timestamp())
        headers = signing.headers(
            claimed.secret, message_id=claimed.message_id, timestamp=stamp, body=body
        )
        headers |= {"content-type": "application/json", "user-agent": USER_AGENT}
        try:
            response = await http.post(claimed.url, content=body, headers=headers)
        except httpx.TimeoutException:
            return Answer(claimed, None, f"no answer within {self.timeout:g} s")
        except httpx.HTTPError as exc:  # the URL stays out of the message: it may hold a token
            return Answer(claimed, None, f"could not connect ({type(exc).__name__})")
        if 200 <= response.status_code < 300:
            return Answer(claimed, response.status_code, None)
        return Answer(claimed, response.status_code, f"answered HTTP {response.status_code}")

    async def _record(self, answers: list[Answer]) -> None:
        now = self.clock.now()
        async with unit_of_work(self.sessions) as session:
            for answer in answers:
                await self._record_one(session, answer, now)

    async def _record_one(self, session: AsyncSession, answer: Answer, now: datetime) -> None:
        delivery = await session.get(
            WebhookDelivery,
            answer.claimed.delivery_id,
            with_for_update=True,
            populate_existing=True,
        )
        if delivery is None or delivery.claimed_at != answer.claimed.claimed_at:
            return  # removed (an erasure) or taken over meanwhile: that one records
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.response_status = answer.status
        delivery.error = answer.error
        delivery.updated_at = now
        subscription = await session.get(
            WebhookSubscription, delivery.subscription_id, with_for_update=True
        )
        if answer.error is None:
            delivery.status = WebhookDeliveryStatus.DELIVERED
            delivery.delivered_at = now
            if subscription is not None:
                subscription.failing_since = None
            return
        _retry_or_give_up(delivery, now)
        if subscription is not None:
            self._note_failure(subscription, answer.error, now)

    def _note_failure(self, subscription: WebhookSubscription, error: str, now: datetime) -> None:
        subscription.failing_since = subscription.failing_since or now
        if subscription.enabled and now - subscription.failing_since >= self.disable_after:
            subscription.enabled = False
            subscription.disabled_reason = (
                f"disabled automatically at {now:%Y-%m-%d %H:%M} UTC: every delivery failed "
                f"since {subscription.failing_since:%Y-%m-%d %H:%M} UTC (last: {error})"
            )
            subscription.updated_at = now
            log.warning(
                "webhook %s disabled after failing since %s",
                subscription.id,
                subscription.failing_since.isoformat(),
            )


def _retry_or_give_up(delivery: WebhookDelivery, now: datetime) -> None:
    later = now + backoff(delivery.attempts)
    if later > delivery.give_up_at:
        delivery.status = WebhookDeliveryStatus.FAILED
    else:
        delivery.status = WebhookDeliveryStatus.PENDING
        delivery.next_attempt_at = later
