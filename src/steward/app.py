"""The app factory: builds services from settings and mounts every slice's router."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from steward import __version__
from steward.api import errors
from steward.settings import Settings
from steward.state import AppState, build_state, start_background, stop_background

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, state: AppState | None = None) -> FastAPI:
    """Build the ASGI app; nothing connects to anything until this is called."""
    settings = settings or Settings()
    state = state or build_state(settings)
    from steward.gateway import Gateway, GatewayMiddleware

    gateway = state.extras.setdefault("gateway", Gateway(state))
    from steward.monitoring.api import attach as attach_monitor

    monitor = attach_monitor(state)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.revisions.poll_once()
        state.revisions.start()
        gateway.start()
        state.limits.start()
        state.audit.start()
        if state.background:  # else the `steward serve` background process does these
            start_background(state, monitor)
        try:
            yield
        finally:
            await state.revisions.stop()
            gateway.close()
            state.limits.stop()
            state.audit.stop()
            state.spool.close()
            if state.background:
                stop_background(state, monitor)
            state.close()

    app = FastAPI(title="Steward", version=__version__, lifespan=lifespan,
                  openapi_url="/openapi.json", docs_url="/docs", redoc_url=None)
    app.state.steward = state
    errors.install(app)
    from steward.audit import RequestIdMiddleware

    # Added before the gateway's middleware, so it wraps only the management API.
    app.add_middleware(RequestIdMiddleware)
    # Inference routes are served by the gateway itself (no FastAPI routing on the hot path).
    app.add_middleware(GatewayMiddleware, state=state)

    from steward.deployments.api import router as deployments_router
    from steward.predictions.api import router as predictions_router
    from steward.registry.api import router as registry_router
    from steward.security.api import router as security_router

    for router in (registry_router, deployments_router, predictions_router, security_router):
        app.include_router(router)
    from steward.approvals.api import router as approvals_router
    from steward.audit.api import router as audit_router
    from steward.webhooks.api import router as webhooks_router

    for router in (approvals_router, audit_router, webhooks_router):
        app.include_router(router)

    from steward.monitoring.api import metrics_router
    from steward.monitoring.api import router as monitoring_router

    app.include_router(monitoring_router)
    app.include_router(metrics_router)  # Prometheus /metrics

    from steward.ui import router as ui_router

    app.include_router(ui_router)  # the web dashboard under /ui

    @app.get("/api/v1/health", tags=["meta"])
    def health() -> dict[str, object]:
        """Liveness of the management API (with the answering worker's pid)."""
        return {"status": "ok", "version": __version__, "worker": os.getpid()}

    return app
