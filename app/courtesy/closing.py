"""When an obligation closes without a call (DONE, or ops with `notify_caller`), an optional
short SMS tells the caller their message was picked up."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.courtesy.optouts import blocked
from app.courtesy.policy import CALLER_CLOSE, Courtesy
from app.courtesy.sending import text_caller
from app.courtesy.texts import close_text
from app.models import CallerText, Obligation, Recruiter


async def queue_close_text(
    session: AsyncSession, *, obligation: Obligation, courtesy: Courtesy, at: datetime
) -> int | None:
    """Queue the close text to the caller; None when there is nobody who may get it."""
    recruiter = await session.get(Recruiter, obligation.recruiter_id)
    if (
        recruiter is None
        or obligation.caller is None
        or not courtesy.enabled
        or not recruiter.caller_text
        or obligation.caller_text in (CallerText.LANDLINE, CallerText.OPTED_OUT)
        or await blocked(session, line=recruiter.line, caller=obligation.caller) is not None
    ):
        return None
    return await text_caller(
        session,
        purpose=CALLER_CLOSE,
        obligation=obligation,
        recruiter=recruiter,
        body=close_text(recruiter.name),
        at=at,
        not_before=courtesy.hours.in_zone(recruiter.timezone).next_open(at),
    )
