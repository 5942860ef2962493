"""The web dashboard under /ui: server-rendered pages over the service layer."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import RedirectResponse

from steward.ui import auth, governance, monitoring, pages

router = APIRouter(prefix="/ui", include_in_schema=False)
router.include_router(auth.router)
router.include_router(pages.router)
router.include_router(governance.router)
router.include_router(monitoring.router)


@router.get("", include_in_schema=False)
def _bare() -> RedirectResponse:
    """`/ui` without the slash."""
    return RedirectResponse("/ui/", status_code=307)

__all__ = ["router"]
