"""Alerts reach a real HTTP receiver with a valid HMAC signature; /metrics exposes gauges."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from steward.client import Client
from steward.errors import Conflict
from steward.state import AppState
from steward.webhooks import signing
from tests.monitoring.conftest import flush, upper_half

SHIFTED = ["mean texture", "worst smoothness"]


class Receiver:
    """A tiny webhook receiver on localhost collecting (headers, body)."""

    def __init__(self) -> None:
        received: list[tuple[dict[str, str], bytes]] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A live receiver for the duration of a test."""
    r = Receiver()
    yield r
    r.close()


def test_drift_alert_signed_webhook_dedup_resolve(
        admin: Client, cancer_dep: str, cancer_features: pd.DataFrame,
        send: Callable[..., list[str]], state: AppState, receiver: Receiver) -> None:
    hook = admin.create_webhook(receiver.url, ["monitoring.alert.opened"])
    rule = admin.create_alert_rule("texture drift", cancer_dep, "psi", 0.2, comparator=">=",
                                   window="1h", retrain=True)
    admin.create_alert_rule("p99", cancer_dep, "latency_p99_ms", 1e9)  # never fires
    send(cancer_dep, upper_half(cancer_features, SHIFTED))
    flush(state)
    admin.run_monitoring()
    admin.run_monitoring()  # still breached: no duplicates
    opened = admin.alerts(cancer_dep, "open")
    assert sorted(a["scope"]["feature"] for a in opened) == sorted(SHIFTED)
    assert all(a["retrain"] and a["rule_id"] == rule["id"] and a["value"] > 0.2 for a in opened)

    state.webhooks.deliver_once()
    assert len(receiver.received) == 2
    for headers, body in receiver.received:
        assert signing.verify(hook["secret"], headers[signing.TIMESTAMP_HEADER.lower()], body,
                              headers[signing.SIGNATURE_HEADER.lower()])
        payload = json.loads(body)
        assert payload["event"] == "monitoring.alert.opened"
        assert payload["data"]["retrain"] is True and payload["data"]["metric"] == "psi"
        assert payload["data"]["scope"]["feature"] in SHIFTED

    first = opened[0]
    closed = admin.resolve_alert(first["id"], note="retraining started")
    assert closed["status"] == "resolved" and closed["resolved_by"] == "admin"
    with pytest.raises(Conflict):
        admin.resolve_alert(first["id"])
    admin.run_monitoring()  # the breach continues: a new alert for that scope
    reopened = admin.alerts(cancer_dep, "open")
    assert len(reopened) == 2 and first["id"] not in {a["id"] for a in reopened}


def test_metrics_scrape_has_gateway_counters_and_drift_gauges(
        admin: Client, cancer_dep: str, cancer_features: pd.DataFrame,
        send: Callable[..., list[str]], state: AppState, http: TestClient) -> None:
    send(cancer_dep, upper_half(cancer_features, SHIFTED))
    flush(state)
    admin.run_monitoring()
    text = http.get("/metrics").text
    assert 'steward_gateway_requests_total{' in text and f'deployment="{cancer_dep}"' in text
    assert "steward_gateway_latency_seconds_bucket{" in text
    line = next(x for x in text.splitlines() if x.startswith("steward_drift_value{")
                and 'feature="mean texture"' in x)
    psi = admin.drift(cancer_dep, window="1h")
    want = next(f for f in psi["features"] if f["feature"] == "mean texture")["statistics"]["psi"]
    assert abs(float(line.rsplit(" ", 1)[1]) - want) < 1e-9
    assert f'steward_drift_share{{deployment="{cancer_dep}",version="cancer:1"}}' in text
