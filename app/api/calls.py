"""/api/v1/calls: the call log, newest first."""

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.obligations import Cursor, Limit
from app.api.schemas import CallPage, CallRecord
from app.http.deps import SessionDep
from app.http.openapi import responses
from app.obligations import queries as ops

router = APIRouter(prefix="/calls", tags=["calls"])


@router.get("", summary="The call log, newest first", responses=responses(422))
async def list_calls(
    session: SessionDep,
    recruiter_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    obligation_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> CallPage:
    where = ops.CallFilter(recruiter_id=recruiter_id, obligation_id=obligation_id)
    page = await ops.list_calls(session, where=where, cursor=cursor, limit=limit)
    return CallPage(
        items=[CallRecord.model_validate(c) for c in page.items], next_cursor=page.next_cursor
    )
