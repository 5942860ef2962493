"""Shared helpers of the governance tests: keys per role, a cheap model, a live server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from steward.client import Client
from steward.errors import NotFound
from steward.state import AppState

ROLES = ("viewer", "data_scientist", "approver", "compliance", "operator", "admin", "service")


def state_of(app: FastAPI) -> AppState:
    """The app's services."""
    state: AppState = app.state.steward
    return state


def make_key(admin: Client, name: str, role: str, **spec: Any) -> str:
    """Create a key and return its secret."""
    return str(admin.create_key(name, role, **spec)["key"])


def as_key(http: TestClient, key: str) -> Client:
    """The SDK talking to the in-process app with another key."""
    return Client("http://testserver", key, http=http)


def register_rules(admin: Client, name: str, rules_yaml: bytes, reference: bytes, *,
                   risk_tier: str = "minimal", **meta: Any) -> dict[str, Any]:
    """A cheap rule model version (creating the model if needed)."""
    try:
        admin.get_model(name)
    except NotFound:
        admin.create_model(name, owner="ml@example.com", risk_tier=risk_tier,
                           allowed_purposes=["triage"])
    meta.setdefault("target", "target")
    return admin.register_version(name, rules_yaml, reference, artifact_filename="rules.yaml",
                                  **meta)


@contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    """Serve `app` with uvicorn on a free localhost port in a thread; yield its URL."""
    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", ws="none",
                            lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:  # start-up wait, not a timing assertion
        if not thread.is_alive():
            raise RuntimeError("live server failed to start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join()
