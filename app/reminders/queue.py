"""Due nudges become outbox rows: working hours, digests, the withheld-caller SMS, escalation.

A batch of recruiters with due obligations is claimed per transaction (SKIP LOCKED on
PostgreSQL, so several workers share the work and a recruiter's digest is never split);
the SMS are queued in the outbox and each obligation's schedule moves in the same commit.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import groupby
from typing import Any

from sqlalchemy import ColumnElement, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.clock import Now
from app.config import Settings
from app.db import unit_of_work
from app.hours import WorkingHours
from app.metrics import NUDGES
from app.models import (
    Obligation,
    ObligationEvent,
    ObligationStatus,
    OutboxKind,
    Recruiter,
)
from app.obligations.timeline import WORKER, EventKind
from app.outbox.service import enqueue
from app.passes import Stopping
from app.reminders.lookups import nudge_facts, transcribing
from app.reminders.policy import (
    NudgeFacts,
    NudgePolicy,
    digest_text,
    escalation_text,
    nudge_text,
    withheld_voicemail_text,
)


class Purpose(StrEnum):
    NUDGE = "nudge"
    DIGEST = "digest"
    WITHHELD_VOICEMAIL = "withheld_voicemail"
    ESCALATION = "escalation"


REMINDER_PURPOSES = frozenset(purpose.value for purpose in Purpose)
# Reminders a snooze holds back (the withheld caller's SMS and the escalation still go).
HELD_BY_SNOOZE = frozenset({Purpose.NUDGE.value, Purpose.DIGEST.value})
DIGEST_FROM = 3  # this many due for one recruiter in one pass go out as one digest
_RECRUITERS_PER_BATCH = 50
# A withheld caller's one SMS waits for the voicemail's transcript this long at most after
# the voicemail (Twilio may never report on it), looking again this often.
TRANSCRIPT_WAIT = timedelta(minutes=10)
_TRANSCRIPT_RECHECK = timedelta(seconds=30)


@dataclass(frozen=True)
class Nudging:
    """What a pass needs to know besides the database."""

    policy: NudgePolicy
    escalation_number: str | None

    @classmethod
    def of(cls, settings: Settings) -> "Nudging":
        return cls(NudgePolicy.of(settings), settings.escalation_number)


def due(at: datetime) -> list[ColumnElement[bool]]:
    """The conditions of an obligation whose next nudge is due at `at` (the partial index)."""
    return [
        Obligation.next_reminder_at.is_not(None),
        Obligation.next_reminder_at <= at,
        Obligation.status == ObligationStatus.OPEN,
    ]


async def queue_due_nudges(
    sessions: async_sessionmaker[AsyncSession], *, nudging: Nudging, now: Now, stopping: Stopping
) -> int:
    """Turn every due nudge into outbox rows, a batch of recruiters per commit; SMS queued."""
    queued = 0
    while not stopping():
        async with unit_of_work(sessions) as session:
            at = now()
            recruiters = await _claim_recruiters(session, at)
            queued += await _Batch(session, nudging, at).run(recruiters)
        if len(recruiters) < _RECRUITERS_PER_BATCH:
            break
    return queued


async def _claim_recruiters(session: AsyncSession, at: datetime) -> Sequence[Recruiter]:
    with_due = select(Obligation.recruiter_id).where(*due(at))
    # FOR NO KEY UPDATE: webhooks inserting rows that point at the recruiter are not blocked.
    return (
        await session.scalars(
            select(Recruiter)
            .where(Recruiter.id.in_(with_due), Recruiter.active)
            .order_by(Recruiter.id)
            .limit(_RECRUITERS_PER_BATCH)
            .with_for_update(skip_locked=True, key_share=True)
        )
    ).all()


@dataclass
class _Batch:
    """One transaction's recruiters: their due obligations become SMS and new due times."""

    session: AsyncSession
    nudging: Nudging
    at: datetime
    facts: dict[int, NudgeFacts] = field(default_factory=dict)
    transcribing: set[int] = field(default_factory=set)
    events: list[dict[str, Any]] = field(default_factory=list)

    async def run(self, recruiters: Sequence[Recruiter]) -> int:
        if not recruiters:
            return 0
        obligations = (
            await self.session.scalars(
                select(Obligation)
                .where(Obligation.recruiter_id.in_([r.id for r in recruiters]), *due(self.at))
                .order_by(Obligation.recruiter_id, Obligation.next_reminder_at, Obligation.id)
                .with_for_update()
            )
        ).all()
        zones = {r.id: r.timezone for r in recruiters}
        self.facts = await nudge_facts(self.session, obligations, self.at, zones)
        self.transcribing = await transcribing(self.session, obligations)
        owned = {key: list(group) for key, group in groupby(obligations, lambda o: o.recruiter_id)}
        queued = 0
        for recruiter in recruiters:
            queued += await self._recruiter(recruiter, owned.get(recruiter.id, []))
        if self.events:  # one statement for the batch's timeline lines
            await self.session.execute(insert(ObligationEvent), self.events)
        return queued

    async def _recruiter(self, recruiter: Recruiter, obligations: list[Obligation]) -> int:
        opens = WorkingHours.of(recruiter.timezone, recruiter.working_hours).next_open(self.at)
        if opens > self.at:  # outside working hours: everything waits for the next period
            for obligation in obligations:
                obligation.next_reminder_at = opens
            NUDGES.labels(outcome="deferred").inc(len(obligations))
            return 0
        queued = 0
        callers = [o for o in obligations if o.caller is not None]
        for obligation in obligations:
            if obligation.caller is None:
                queued += await self._withheld_voicemail(recruiter, obligation)
            elif self._owes_escalation(recruiter, obligation):
                queued += await self._escalate(recruiter, obligation)
        queued += await self._nudges(recruiter, callers)
        target = self._escalation_target(recruiter)
        for obligation in callers:
            obligation.next_reminder_at = self.nudging.policy.after_nudge(
                self.at,
                obligation.reminders_sent,
                escalation_pending=target is not None and obligation.escalated_at is None,
            )
            obligation.updated_at = self.at
        return queued

    async def _nudges(self, recruiter: Recruiter, callers: list[Obligation]) -> int:
        """Queue the due nudges (one digest for several); count them on each obligation."""
        nudged = [o for o in callers if o.reminders_sent < self.nudging.policy.max_nudges]
        if len(nudged) >= DIGEST_FROM:
            ids = ",".join(f"{o.id}.{o.reminders_sent}" for o in nudged)
            outbox_id = await self._sms(
                recruiter,
                key=f"digest:{recruiter.id}:{hashlib.sha256(ids.encode()).hexdigest()[:24]}",
                purpose=Purpose.DIGEST,
                body=digest_text([self.facts[o.id] for o in nudged], self.at),
                obligations=nudged,
            )
            for obligation in nudged:
                self._count_nudge(obligation, outbox_id, digest=True)
            return 1
        for obligation in nudged:
            key = f"nudge:{obligation.id}:{obligation.reminders_sent + 1}"
            text = nudge_text(self.facts[obligation.id], self.at)
            await self._nudge_one(recruiter, obligation, key=key, purpose=Purpose.NUDGE, body=text)
        return len(nudged)

    async def _withheld_voicemail(self, recruiter: Recruiter, obligation: Obligation) -> int:
        """A withheld caller's voicemail gets exactly one SMS, and never a nudge after it. It
        waits for the transcript (or word that none will come), TRANSCRIPT_WAIT at most."""
        obligation.updated_at = self.at
        waited_enough = obligation.opened_at + TRANSCRIPT_WAIT  # it opened with the voicemail
        if obligation.id in self.transcribing and self.at < waited_enough:
            obligation.next_reminder_at = min(self.at + _TRANSCRIPT_RECHECK, waited_enough)
            return 0
        obligation.next_reminder_at = None
        if obligation.reminders_sent:
            return 0
        text = withheld_voicemail_text(self.facts[obligation.id], self.at)
        key, purpose = f"withheld:{obligation.id}", Purpose.WITHHELD_VOICEMAIL
        await self._nudge_one(recruiter, obligation, key=key, purpose=purpose, body=text)
        return 1

    def _escalation_target(self, recruiter: Recruiter) -> str | None:
        return recruiter.escalation_number or self.nudging.escalation_number

    def _owes_escalation(self, recruiter: Recruiter, obligation: Obligation) -> bool:
        """Due again after ESCALATE_AFTER nudges, all unanswered, and never escalated."""
        return (
            obligation.escalated_at is None
            and self.nudging.policy.should_escalate(obligation.reminders_sent)
            and self._escalation_target(recruiter) is not None
        )

    async def _escalate(self, recruiter: Recruiter, obligation: Obligation) -> int:
        nudges = obligation.reminders_sent
        text = escalation_text(
            self.facts[obligation.id], recruiter=recruiter.name, nudges=nudges, now=self.at
        )
        outbox_id = await self._sms(
            recruiter,
            key=f"escalation:{obligation.id}",
            purpose=Purpose.ESCALATION,
            body=text,
            obligations=[obligation],
            to_number=self._escalation_target(recruiter),
        )
        obligation.escalated_at = self.at
        self._event(
            obligation, EventKind.ESCALATED, {"outbox_id": outbox_id, "after_nudges": nudges}
        )
        return 1

    async def _nudge_one(
        self, recruiter: Recruiter, obligation: Obligation, *, key: str, purpose: Purpose, body: str
    ) -> None:
        """One SMS about one obligation, counted as its nudge."""
        outbox_id = await self._sms(
            recruiter, key=key, purpose=purpose, body=body, obligations=[obligation]
        )
        self._count_nudge(obligation, outbox_id, digest=False)

    def _count_nudge(self, obligation: Obligation, outbox_id: int | None, digest: bool) -> None:
        obligation.reminders_sent += 1
        detail = {"n": obligation.reminders_sent, "outbox_id": outbox_id, "digest": digest}
        self._event(obligation, EventKind.NUDGE_SENT, detail)

    def _event(self, obligation: Obligation, kind: EventKind, detail: dict[str, Any]) -> None:
        self.events.append(
            {
                "obligation_id": obligation.id,
                "at": self.at,
                "kind": kind.value,
                "actor": WORKER,
                "detail": detail,
            }
        )

    async def _sms(
        self,
        recruiter: Recruiter,
        *,
        key: str,
        purpose: Purpose,
        body: str,
        obligations: list[Obligation],
        to_number: str | None = None,
    ) -> int | None:
        return await enqueue(
            self.session,
            key=key,
            kind=OutboxKind.SMS,
            purpose=purpose.value,
            to_number=to_number,
            sender=recruiter,
            body=body,
            obligation_ids=[o.id for o in obligations],
            at=self.at,
        )
