"""The outbox: outgoing Twilio work (SMS and calls), written in the caller's transaction.

The worker sends it later (claim, commit, send, record), so no transaction is ever held
open across a call to Twilio, and the idempotency key makes every enqueue safe to repeat.
"""

import logging
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from app.db import dialect_insert
from app.models import OutboxItem, OutboxKind, OutboxObligation, OutboxStatus, Recruiter

log = logging.getLogger(__name__)
# An item back in the queue to be sent, held by no worker.
UNCLAIMED = {"status": OutboxStatus.PENDING, "claimed_at": None, "claimed_by": None}


async def enqueue(
    session: AsyncSession,
    *,
    key: str,
    kind: OutboxKind,
    purpose: str,
    sender: Recruiter,
    at: datetime,
    to_number: str | None = None,
    body: str | None = None,
    call_target: str | None = None,
    obligation_ids: Iterable[int] = (),
    not_before: datetime | None = None,
) -> int | None:
    """Queue one SMS or call from `sender`'s line on their behalf, to their own mobile unless
    `to_number` says otherwise; None when an item with this key was queued before."""
    insert = dialect_insert(session)
    statement = (
        insert(OutboxItem)
        .values(
            kind=kind,
            purpose=purpose,
            idempotency_key=key,
            recruiter_id=sender.id,
            to_number=to_number or sender.mobile,
            from_number=sender.line,
            body=body,
            call_target=call_target,
            status=OutboxStatus.PENDING,
            attempts=0,
            next_attempt_at=not_before or at,
            created_at=at,
            updated_at=at,
        )
        .on_conflict_do_nothing(index_elements=[OutboxItem.idempotency_key])
        .returning(OutboxItem.id)
    )
    outbox_id = (await session.execute(statement)).scalar_one_or_none()
    if outbox_id is not None:
        session.add_all(
            OutboxObligation(outbox_id=outbox_id, obligation_id=obligation_id)
            for obligation_id in dict.fromkeys(obligation_ids)
        )
        await session.flush()
    return outbox_id


async def sid_holders(session: AsyncSession, sids: Iterable[str]) -> dict[str, int]:
    """The outbox row holding each of these Twilio SIDs, whatever its status."""
    wanted = set(sids)
    if not wanted:
        return {}
    rows = await session.execute(
        select(OutboxItem.twilio_sid, OutboxItem.id).where(OutboxItem.twilio_sid.in_(wanted))
    )
    return {sid: outbox_id for sid, outbox_id in rows if sid is not None}


async def take_sid(session: AsyncSession, *, item: OutboxItem, sid: str, at: datetime) -> bool:
    """Store `sid`, certainly `item`'s (Twilio reported on it for this item), on it.

    A row that adopted it by a guess goes back to be sent (`unadopt`). Each try is a
    savepoint, so a concurrent writer's clash spoils nothing else in the transaction; False
    when the SID stays another row's.
    """
    for _ in range(2):  # the second try sees the concurrent writer that made the first fail
        try:
            async with session.begin_nested():
                await unadopt(session, sid=sid, owner_id=item.id, at=at)
                await session.execute(
                    update(OutboxItem).where(OutboxItem.id == item.id).values(twilio_sid=sid)
                )
        except IntegrityError:
            continue
        set_committed_value(item, "twilio_sid", sid)
        return True
    log.warning("outbox item %s: its Twilio SID stays with another item", item.id)
    return False


async def unadopt(session: AsyncSession, *, sid: str, owner_id: int, at: datetime) -> None:
    """`sid` is certainly item `owner_id`'s: a row holding it took it by a guess after a crash
    (a message with the same numbers and text), so nothing was sent for that row yet."""
    taken = await session.execute(
        update(OutboxItem)
        .where(OutboxItem.twilio_sid == sid, OutboxItem.id != owner_id)
        .values(twilio_sid=None, sent_at=None, next_attempt_at=at, updated_at=at, **UNCLAIMED)
        .returning(OutboxItem.id)
    )
    for (outbox_id,) in taken:
        log.warning(
            "outbox item %s had adopted item %s's message; it is sent now", outbox_id, owner_id
        )
