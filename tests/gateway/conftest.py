"""Gateway fixtures: a registered cancer model, deployments, service keys, a live server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pandas as pd
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from steward.client import Client
from steward.errors import NotFound
from steward.state import AppState
from tests.conftest import Env

CLASSES = ["malignant", "benign"]


def register(admin: Client, name: str, artifact: bytes, filename: str, reference: bytes,
             **meta: Any) -> dict[str, Any]:
    """Create the model if needed and register one version."""
    try:
        admin.get_model(name)
    except NotFound:
        admin.create_model(name, owner="ml-team@example.com",
                           allowed_purposes=meta.pop("allowed_purposes", []))
    meta.setdefault("target", "target")
    return admin.register_version(name, artifact, reference, artifact_filename=filename, **meta)


@pytest.fixture
def state(app: FastAPI) -> AppState:
    """The app's services (revisions, spool, gateway)."""
    st: AppState = app.state.steward
    return st


def apply(state: AppState) -> None:
    """Apply routing changes now instead of waiting for the 0.2 s poller."""
    state.revisions.poll_once()


@pytest.fixture
def cancer_model(admin: Client, cancer_onnx: bytes, cancer_reference: bytes) -> dict[str, Any]:
    """`cancer` v1: the ONNX logistic regression with named classes."""
    return register(admin, "cancer", cancer_onnx, "model.onnx", cancer_reference,
                    classes=CLASSES)


@pytest.fixture
def deploy(admin: Client, state: AppState) -> Callable[..., dict[str, Any]]:
    """Create a deployment through the REST API and apply it to the gateway at once."""
    def make(name: str, model: str = "cancer", version: int | str = 1, **spec: Any
             ) -> dict[str, Any]:
        out = admin.create_deployment(name, model, version, **spec)
        apply(state)
        return out
    return make


@pytest.fixture
def service_key(admin: Client) -> str:
    """A `service` role key (predict + feedback only)."""
    return str(admin.create_key("svc", "service")["key"])


def bearer(key: str, **extra: str) -> dict[str, str]:
    """Headers for an authenticated call."""
    return {"Authorization": f"Bearer {key}", **extra}


def oip_row(features: pd.DataFrame, i: int = 0) -> dict[str, Any]:
    """One row as a single OIP 2-D FP32 tensor in contract order."""
    values = features.iloc[i].tolist()
    return {"inputs": [{"name": "input", "shape": [1, len(values)], "datatype": "FP32",
                        "data": values}]}


# -- live servers -----------------------------------------------------------------------------

def free_port() -> int:
    """An unused TCP port on localhost."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    """A uvicorn process tree serving the test env."""

    url: str
    process: subprocess.Popen[bytes]


def start_server(env: Env, workers: int = 1) -> LiveServer:
    """Start `uvicorn --factory steward.server:create` on a free port; wait until ready."""
    port = free_port()
    environ = {**os.environ, "STEWARD_HOME": str(env.settings.home),
               "STEWARD_LOG_LEVEL": "WARNING"}
    if env.settings.database_url:
        environ["STEWARD_DATABASE_URL"] = env.settings.database_url
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "steward.server:create",
           "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
           "--http", "httptools", "--loop", "uvloop", "--log-level", "warning",
           "--no-access-log"]
    process = subprocess.Popen(cmd, env=environ, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/v2/health/ready", timeout=1).status_code == 200:
                return LiveServer(url, process)
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    stop_server(LiveServer(url, process))
    raise RuntimeError("server did not become ready within 60 s")


def stop_server(server: LiveServer) -> None:
    """Stop the whole process group."""
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=10)


@pytest.fixture
def live(env: Env, http: TestClient) -> Iterator[Callable[..., LiveServer]]:
    """Factory of live servers on the test env, stopped at teardown."""
    started: list[LiveServer] = []

    def make(workers: int = 1) -> LiveServer:
        server = start_server(env, workers)
        started.append(server)
        return server

    yield make
    for server in started:
        stop_server(server)
