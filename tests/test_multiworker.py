"""Several workers share state through the database: changes are live everywhere within 1 s."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any, NamedTuple

import httpx
import pytest

from steward.client import Client
from tests.conftest import Env
from tests.gateway.conftest import free_port, oip_row, register

pytestmark = pytest.mark.slow


class Server(NamedTuple):
    url: str
    session: int  # the server's session id: its whole process tree


@pytest.fixture
def two_workers(env: Env) -> Iterator[Server]:
    """`steward serve --workers 2` on the test env, as a user would start it."""
    port = free_port()
    environ = {**os.environ, "STEWARD_HOME": str(env.settings.home)}
    if env.settings.database_url:
        environ["STEWARD_DATABASE_URL"] = env.settings.database_url
    proc = subprocess.Popen([sys.executable, "-m", "steward.cli.main", "serve", "--workers", "2",
                             "--port", str(port)], env=environ, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, "server exited"
            try:
                if len(_workers(url, 20)) == 2:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield Server(url, proc.pid)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def _workers(url: str, attempts: int) -> set[int]:
    """Pids answering over fresh connections (each request opens its own)."""
    return {httpx.get(f"{url}/api/v1/health", timeout=5).json()["worker"]
            for _ in range(attempts)}


def _fresh(method: str, url: str, **kwargs: Any) -> httpx.Response:
    with httpx.Client(timeout=10) as client:  # a new connection: the kernel picks a worker
        return client.request(method, url, **kwargs)


def test_revocation_and_routing_changes_reach_every_worker(
        two_workers: Server, env: Env, cancer_onnx: bytes, cancer_skops: bytes,
        cancer_reference: bytes, cancer_features: Any) -> None:
    url = two_workers.url
    assert len(_workers(url, 40)) == 2, "both workers must be answering"
    with Client(url, env.admin_key) as admin:
        register(admin, "cancer", cancer_onnx, "m.onnx", cancer_reference)
        register(admin, "cancer", cancer_skops, "m.skops", cancer_reference)
        admin.create_deployment("triage", "cancer", 1)
        key = admin.create_key("app", "service")
        time.sleep(1.0)  # new deployments are live in every worker within a second
        headers = {"Authorization": f"Bearer {key['key']}"}
        body = oip_row(cancer_features)
        infer = f"{url}/v2/models/triage/infer"
        for _ in range(20):  # warm both workers' key caches and model caches
            assert _fresh("POST", infer, json=body, headers=headers).status_code == 200

        admin.update_deployment("triage", champion={"version": 2})
        changed = time.monotonic()
        time.sleep(1.0)
        versions = {_fresh("POST", infer, json=body, headers=headers)
                    .headers["x-model-version"] for _ in range(30)}
        assert versions == {"cancer:2"}, f"stale worker after {time.monotonic() - changed:.2f}s"

        admin.revoke_key(key["id"])
        time.sleep(1.0)
        codes = {_fresh("POST", infer, json=body, headers=headers).status_code
                 for _ in range(30)}
        assert codes == {401}


def _background_pids(server: Server) -> set[str]:
    out = subprocess.run(["pgrep", "-s", str(server.session), "-f", "steward.background"],
                         capture_output=True, text=True).stdout
    return set(out.split())


def test_a_killed_background_process_is_restarted(two_workers: Server) -> None:
    (first,) = _background_pids(two_workers)
    os.kill(int(first), signal.SIGKILL)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        now = _background_pids(two_workers) - {first}
        if now:
            break
        time.sleep(0.2)
    assert now, "the background process was not restarted"
    assert httpx.get(f"{two_workers.url}/v2/health/live", timeout=5).status_code == 200
