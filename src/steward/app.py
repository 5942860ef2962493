"""The app factory: builds services from settings and mounts every slice's router."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from steward import __version__
from steward.api import errors
from steward.settings import Settings
from steward.state import AppState, build_state

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, state: AppState | None = None) -> FastAPI:
    """Build the ASGI app; nothing connects to anything until this is called."""
    settings = settings or Settings()
    state = state or build_state(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.revisions.poll_once()
        state.revisions.start()
        state.spool.start()
        try:
            yield
        finally:
            await state.revisions.stop()
            state.spool.stop()
            state.close()

    app = FastAPI(title="Steward", version=__version__, lifespan=lifespan,
                  openapi_url="/openapi.json", docs_url="/docs", redoc_url=None)
    app.state.steward = state
    errors.install(app)

    from steward.deployments.api import router as deployments_router
    from steward.predictions.api import router as predictions_router
    from steward.registry.api import router as registry_router
    from steward.security.api import router as security_router

    for router in (registry_router, deployments_router, predictions_router, security_router):
        app.include_router(router)

    @app.get("/api/v1/health", tags=["meta"])
    def health() -> dict[str, str]:
        """Liveness of the management API."""
        return {"status": "ok", "version": __version__}

    return app
