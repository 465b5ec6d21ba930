"""Recruiters in the dashboard: list, add, edit (working hours too), deactivate.

The forms feed the same service functions as the API, so the rules and messages are the same.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from app.errors import AppError, InvalidInput
from app.hours import WEEKDAYS
from app.http.deps import ClockDep, RecruiterEditDep, SessionDep
from app.models import Recruiter
from app.recruiters import service as recruiters
from app.web.auth import ActingDep, OperatorDep
from app.web.render import page

router = APIRouter(prefix="/dashboard/recruiters")
RecruiterId = Annotated[int, Path(ge=1, le=2**31 - 1)]
_TEXT_FIELDS = (
    "name",
    "mobile",
    "line",
    "timezone",
    "escalation_number",
    "client_identity",
    "slug",
)


def hours_text(working_hours: dict[str, list[list[str]]] | None, day: str) -> str:
    """One day's ranges as the form shows them: `09:00-12:00, 13:00-17:30`."""
    return ", ".join(f"{start}-{end}" for start, end in (working_hours or {}).get(day, []))


def fields_of(form: FormData) -> dict[str, Any]:
    """The recruiter fields a form sent; blank optional ones are null."""
    fields: dict[str, Any] = {}
    for name in _TEXT_FIELDS:
        value = form.get(name)
        text = value.strip() if isinstance(value, str) else ""
        fields[name] = text or None
    fields["public_pledge"] = form.get("public_pledge") == "on"
    fields["working_hours"] = None if form.get("any_time") == "on" else _hours(form)
    return fields


def _hours(form: FormData) -> dict[str, list[list[str]]]:
    hours: dict[str, list[list[str]]] = {}
    for day in WEEKDAYS:
        value = form.get(f"hours_{day}")
        text = value.strip() if isinstance(value, str) else ""
        pieces = [piece.strip() for piece in text.split(",") if piece.strip()]
        ranges = [piece.replace(" ", "").split("-") for piece in pieces]
        if any(len(pair) != 2 for pair in ranges):
            raise InvalidInput(
                f"working_hours.{day}: write ranges like 09:00-12:00, 13:00-17:30",
                field="working_hours",
            )
        if ranges:
            hours[day] = ranges
    return hours


async def _list_page(
    request: Request, session: AsyncSession, operator: object, **extra: Any
) -> Response:
    status = extra.pop("status", 200)
    found = await recruiters.list_recruiters(session, include_inactive=True)
    context = {"recruiters": found, "operator": operator, "days": WEEKDAYS, "hours": hours_text}
    return page(request, "recruiters.html", context | extra, status_code=status)


@router.get("", include_in_schema=False)
async def list_view(request: Request, session: SessionDep, operator: OperatorDep) -> Response:
    return await _list_page(request, session, operator, form={}, error=None)


@router.post("", include_in_schema=False)
async def create(
    request: Request, session: SessionDep, edit: RecruiterEditDep, operator: ActingDep
) -> Response:
    form = await request.form()
    try:
        fields = fields_of(form)
        if fields["timezone"] is None:
            del fields["timezone"]
        await recruiters.create_recruiter(
            session, fields=fields, numbering=edit.numbering, at=edit.at
        )
    except AppError as problem:
        await session.rollback()
        return await _list_page(
            request, session, operator, form=form, error=problem.detail, status=problem.status_code
        )
    return RedirectResponse("/dashboard/recruiters", status_code=303)


@router.get("/{recruiter_id}", include_in_schema=False)
async def edit_view(
    request: Request, recruiter_id: RecruiterId, session: SessionDep, operator: OperatorDep
) -> Response:
    recruiter = await recruiters.active_by_id(session, recruiter_id)
    return _edit_page(request, recruiter, operator, form=None, error=None)


def _edit_page(
    request: Request,
    recruiter: Recruiter,
    operator: object,
    *,
    form: FormData | None,
    error: str | None,
    status: int = 200,
) -> Response:
    context = {
        "r": recruiter,
        "form": form,
        "error": error,
        "operator": operator,
        "days": WEEKDAYS,
        "hours": hours_text,
    }
    return page(request, "recruiter.html", context, status_code=status)


@router.post("/{recruiter_id}", include_in_schema=False)
async def update(
    request: Request,
    recruiter_id: RecruiterId,
    session: SessionDep,
    edit: RecruiterEditDep,
    operator: ActingDep,
) -> Response:
    form = await request.form()
    try:
        await recruiters.update_recruiter(
            session,
            recruiter_id=recruiter_id,
            changes=fields_of(form),
            numbering=edit.numbering,
            at=edit.at,
        )
    except AppError as problem:
        await session.rollback()
        recruiter = await recruiters.active_by_id(session, recruiter_id)
        return _edit_page(
            request,
            recruiter,
            operator,
            form=form,
            error=problem.detail,
            status=problem.status_code,
        )
    return RedirectResponse("/dashboard/recruiters", status_code=303)


@router.post("/{recruiter_id}/deactivate", include_in_schema=False)
async def deactivate(
    recruiter_id: RecruiterId, session: SessionDep, clock: ClockDep, _operator: ActingDep
) -> Response:
    await recruiters.deactivate_recruiter(session, recruiter_id=recruiter_id, at=clock.now())
    return RedirectResponse("/dashboard/recruiters", status_code=303)
