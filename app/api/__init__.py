"""The ops REST API, /api/v1: every route needs a bearer token."""

from fastapi import APIRouter, Depends

from app.api import calls, obligations, recruiters, stats
from app.api import care as care_routes
from app.api import webhooks as webhook_routes
from app.api.auth import authenticate
from app.http.openapi import responses

router = APIRouter(
    prefix="/api/v1", dependencies=[Depends(authenticate)], responses=responses(401, 503)
)
# Before obligations: /obligations/export.csv is not an obligation id.
router.include_router(care_routes.router)
router.include_router(webhook_routes.router)
for module in (recruiters, obligations, calls, stats):
    router.include_router(module.router)
