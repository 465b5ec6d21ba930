"""/api/v1/recruiters: add, read, change and deactivate recruiters and their lines."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from app.api.schemas import Recruiter, RecruiterCreate, RecruiterList, RecruiterUpdate
from app.http.deps import ClockDep, RecruiterEditDep, SessionDep
from app.http.openapi import responses
from app.recruiters import service as recruiters

router = APIRouter(prefix="/recruiters", tags=["recruiters"])
# The routes on one recruiter: an id that names none is a 404, one out of range a 422.
by_id = APIRouter(prefix="/{recruiter_id}", responses=responses(404, 422))
_CREATED: dict[int | str, dict[str, Any]] = {
    201: {"headers": {"Location": {"description": "its URL", "schema": {"type": "string"}}}}
}
RecruiterId = Annotated[int, Path(ge=1, le=2**31 - 1, examples=[1])]


@router.post(
    "",
    status_code=201,
    summary="Add a recruiter and their line",
    responses=_CREATED | responses(409, 422),
)
async def create(
    body: RecruiterCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    edit: RecruiterEditDep,
) -> Recruiter:
    recruiter = await recruiters.create_recruiter(
        session,
        fields=body.model_dump(exclude_unset=True),
        numbering=edit.numbering,
        at=edit.at,
    )
    response.headers["Location"] = f"{request.url.path.rstrip('/')}/{recruiter.id}"
    return Recruiter.model_validate(recruiter)


@router.get("", summary="List recruiters", responses=responses(422))
async def list_all(
    session: SessionDep,
    include_inactive: Annotated[
        bool, Query(description="also list deactivated recruiters")
    ] = False,
) -> RecruiterList:
    found = await recruiters.list_recruiters(session, include_inactive=include_inactive)
    return RecruiterList(items=[Recruiter.model_validate(r) for r in found])


@by_id.get("", summary="One active recruiter")
async def get_one(recruiter_id: RecruiterId, session: SessionDep) -> Recruiter:
    return Recruiter.model_validate(await recruiters.active_by_id(session, recruiter_id))


@by_id.patch("", summary="Change some of a recruiter's fields", responses=responses(409))
async def update(
    recruiter_id: RecruiterId, body: RecruiterUpdate, session: SessionDep, edit: RecruiterEditDep
) -> Recruiter:
    recruiter = await recruiters.update_recruiter(
        session,
        recruiter_id=recruiter_id,
        changes=body.changes(),
        numbering=edit.numbering,
        at=edit.at,
    )
    return Recruiter.model_validate(recruiter)


@by_id.delete(
    "",
    status_code=204,
    summary="Deactivate a recruiter: the line stops forwarding; obligations stay listed",
)
async def deactivate(recruiter_id: RecruiterId, session: SessionDep, clock: ClockDep) -> None:
    await recruiters.deactivate_recruiter(session, recruiter_id=recruiter_id, at=clock.now())


# Last: include_router copies the routes declared so far.
router.include_router(by_id)
