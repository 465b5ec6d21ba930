"""The ops REST API, /api/v1: every route needs a bearer token."""

from fastapi import APIRouter, Depends

from app.api import calls, obligations, recruiters, stats
from app.api.auth import authenticate
from app.http.openapi import responses

router = APIRouter(
    prefix="/api/v1", dependencies=[Depends(authenticate)], responses=responses(401, 503)
)
for module in (recruiters, obligations, calls, stats):
    router.include_router(module.router)
