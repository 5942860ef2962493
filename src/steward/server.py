"""Entry point for uvicorn workers: `uvicorn --factory steward.server:create`."""

from __future__ import annotations

import logging

from starlette.types import ASGIApp

from steward.settings import Settings


def create() -> ASGIApp:
    """Build the app from `STEWARD_*` environment variables (one call per worker process)."""
    from steward.app import create_app

    settings = Settings()
    logging.basicConfig(level=settings.log_level,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app = create_app(settings)
    from steward.gateway import GatewayMiddleware

    # Inference skips FastAPI's own middleware stack (error, telemetry, body-limit layers):
    # the same gateway, mounted outermost; everything else passes through to the app.
    return GatewayMiddleware(app, state=app.state.steward)
