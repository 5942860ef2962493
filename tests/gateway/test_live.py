"""Live uvicorn servers: unmodified OIP clients, and no acknowledged prediction lost on kill -9."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import numpy as np
import pandas as pd
import psutil
import pytest
from sqlalchemy import select

from steward.predictions.tables import PredictionRecord
from steward.state import AppState
from tests.gateway.conftest import CLASSES, LiveServer, bearer, oip_row

pytestmark = pytest.mark.slow


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the OIP client uses pydantic v1 APIs
def test_unmodified_oip_clients(live: Callable[..., LiveServer], cancer_model: dict[str, Any],
                                deploy: Callable[..., Any], service_key: str,
                                cancer_features: pd.DataFrame) -> None:
    import tritonclient.http as triton
    from open_inference.openapi.client import InferenceRequest, OpenInferenceClient
    from open_inference.openapi.types import RequestInput

    deploy("triage")
    server = live()
    headers = bearer(service_key)
    rows = cancer_features.iloc[:2].to_numpy(dtype=np.float32)

    client = triton.InferenceServerClient(url=server.url.removeprefix("http://"))
    try:
        assert client.is_server_live() and client.is_server_ready()
        assert client.is_model_ready("triage", headers=headers)
        meta = client.get_model_metadata("triage", headers=headers)
        assert meta["name"] == "triage" and len(meta["inputs"]) == 30
        tensor = triton.InferInput("input", list(rows.shape), "FP32")
        tensor.set_data_from_numpy(rows, binary_data=False)
        wanted = [triton.InferRequestedOutput("label", binary_data=False),
                  triton.InferRequestedOutput("probabilities", binary_data=False)]
        result = client.infer("triage", [tensor], outputs=wanted, headers=headers,
                              request_id="triton-1")
        assert result.get_response()["id"] == "triton-1"
        probabilities = result.as_numpy("probabilities")
        assert probabilities is not None and probabilities.shape == (2, 2)
        labels = result.as_numpy("label")
        assert labels is not None and {str(v) for v in labels} <= set(CLASSES)
    finally:
        client.close()

    with httpx.Client(headers=headers, timeout=30) as http:
        oip = OpenInferenceClient(base_url=server.url, httpx_client=http)
        oip.check_server_readiness()
        assert oip.read_model_metadata("triage").name == "triage"
        response = oip.model_infer("triage", request=InferenceRequest(inputs=[RequestInput(
            name="input", shape=[2, 30], datatype="FP32", data=rows.ravel().tolist())]))
        assert {o.name for o in response.outputs} == {"label", "probabilities"}


def test_kill_9_loses_no_acknowledged_prediction(
        live: Callable[..., LiveServer], state: AppState, cancer_model: dict[str, Any],
        deploy: Callable[..., Any], service_key: str, cancer_features: pd.DataFrame) -> None:
    deploy("triage")
    server = live(workers=2)
    master = psutil.Process(server.process.pid)
    workers = [p for p in master.children(recursive=True)
               if "resource_tracker" not in " ".join(p.cmdline())]
    assert len(workers) >= 2
    body = oip_row(cancer_features)
    acknowledged: list[str] = []
    lock = threading.Lock()

    def call(i: int) -> None:
        rid = f"k9-{i}"
        try:
            r = httpx.post(f"{server.url}/v2/models/triage/infer", json=body, timeout=30,
                           headers=bearer(service_key, **{"x-request-id": rid}))
        except httpx.HTTPError:
            return  # the killed worker's connections: never acknowledged
        if r.status_code == 200:
            with lock:
                acknowledged.append(rid)

    n = 600
    with ThreadPoolExecutor(16) as pool:
        futures = [pool.submit(call, i) for i in range(n)]
        while len(acknowledged) < n // 4:
            time.sleep(0.01)
        os.kill(workers[0].pid, signal.SIGKILL)
        for f in futures:
            f.result()
    assert len(acknowledged) > n // 4
    deadline = time.monotonic() + 60
    missing: set[str] = set(acknowledged)
    while missing and time.monotonic() < deadline:
        with state.factory() as session:
            logged = set(session.scalars(select(PredictionRecord.request_id).where(
                PredictionRecord.request_id.in_(acknowledged))))
        missing = set(acknowledged) - logged
        time.sleep(0.5)
    assert not missing, f"{len(missing)} acknowledged predictions were lost"
