"""Python SDK: a thin client of the REST API (httpx), mirroring the CLI."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import httpx

from steward.errors import (
    BadRequest,
    Conflict,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    StewardError,
    TooManyRequests,
    Unauthenticated,
    Unavailable,
)

_BY_STATUS: dict[int, type[StewardError]] = {
    400: BadRequest, 401: Unauthenticated, 403: PermissionDenied, 404: NotFound,
    409: Conflict, 413: PayloadTooLarge, 422: InvalidInput, 429: TooManyRequests,
    503: Unavailable,
}


class Client:
    """`Client(url, api_key)`; defaults come from `STEWARD_URL` and `STEWARD_API_KEY`."""

    def __init__(self, url: str | None = None, api_key: str | None = None, *,
                 timeout: float = 120.0, http: httpx.Client | None = None) -> None:
        self.url = (url or os.environ.get("STEWARD_URL") or "http://127.0.0.1:8000").rstrip("/")
        key = api_key or os.environ.get("STEWARD_API_KEY")
        self._headers = {"Authorization": f"Bearer {key}"} if key else {}
        # `http` lets tests pass the ASGI app's TestClient (itself an httpx.Client).
        self._http = http or httpx.Client(base_url=self.url, timeout=timeout)

    def __repr__(self) -> str:  # never show the key
        return f"Client(url={self.url!r})"

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    # -- plumbing -------------------------------------------------------------------------
    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call the API; raise the matching `StewardError` on a 4xx/5xx."""
        headers = {**self._headers, **kwargs.pop("headers", {})}
        response = self._http.request(method, path, headers=headers, **kwargs)
        if response.status_code >= 400:
            try:
                body = response.json()
                message = body.get("error", response.text)
            except ValueError:
                message = response.text or response.reason_phrase
            cls = _BY_STATUS.get(response.status_code, StewardError)
            if cls in (TooManyRequests, Unavailable):
                err: StewardError = cls(message)
            else:
                err = cls(message)
            err.status_code = response.status_code
            raise err
        if response.status_code == 204 or not response.content:
            return None
        if response.headers.get("content-type", "").startswith("application/json"):
            return response.json()
        return response.text

    # -- registry -------------------------------------------------------------------------
    def create_model(self, name: str, *, owner: str, **metadata: Any) -> dict[str, Any]:
        """Register a model name with its metadata (team, use_case, risk_tier, ...)."""
        result: dict[str, Any] = self.request("POST", "/api/v1/models",
                                              json={"name": name, "owner": owner, **metadata})
        return result

    def list_models(self) -> list[dict[str, Any]]:
        """Every model the key may read."""
        result: list[dict[str, Any]] = self.request("GET", "/api/v1/models")
        return result

    def get_model(self, name: str) -> dict[str, Any]:
        """One model."""
        result: dict[str, Any] = self.request("GET", f"/api/v1/models/{name}")
        return result

    def register_version(self, name: str, artifact: str | Path | bytes, reference_data: Any, *,
                         artifact_filename: str | None = None, **metadata: Any) -> dict[str, Any]:
        """Upload a version. `reference_data` is a path, bytes, or a pandas DataFrame / NumPy
        array (sent as Parquet). Metadata: lineage, target, pii, protected, contract_yaml, ..."""
        art_bytes, art_name = _file_bytes(artifact, artifact_filename or "model.onnx")
        ref_bytes, ref_name = _table_bytes(reference_data)
        files = {"artifact": (art_name, art_bytes), "reference_data": (ref_name, ref_bytes)}
        result: dict[str, Any] = self.request(
            "POST", f"/api/v1/models/{name}/versions", files=files,
            data={"metadata": json.dumps(metadata)})
        return result

    def list_versions(self, name: str) -> list[dict[str, Any]]:
        """Every version of a model."""
        result: list[dict[str, Any]] = self.request("GET", f"/api/v1/models/{name}/versions")
        return result

    def get_version(self, name: str, ref: str | int = "latest") -> dict[str, Any]:
        """A version by number, alias or `latest`."""
        result: dict[str, Any] = self.request("GET", f"/api/v1/models/{name}/versions/{ref}")
        return result

    def contract_yaml(self, name: str, ref: str | int = "latest") -> str:
        """A version's contract as YAML."""
        return str(self.request("GET", f"/api/v1/models/{name}/versions/{ref}/contract"))

    def card(self, name: str, ref: str | int = "latest", format: str = "json") -> Any:
        """The model card (json dict, or markdown/html text)."""
        return self.request("GET", f"/api/v1/models/{name}/versions/{ref}/card",
                            params={"format": format})

    def set_alias(self, name: str, alias: str, version: int) -> dict[str, Any]:
        """Point an alias at a version."""
        result: dict[str, Any] = self.request("PUT", f"/api/v1/models/{name}/aliases/{alias}",
                                              json={"version": version})
        return result

    def delete_version(self, name: str, version: int) -> None:
        """Delete an unused version."""
        self.request("DELETE", f"/api/v1/models/{name}/versions/{version}")

    # -- deployments ----------------------------------------------------------------------
    def create_deployment(self, name: str, model: str, version: int | str = "latest", *,
                          environment: str = "dev", **spec: Any) -> dict[str, Any]:
        """Create an endpoint serving `model@version` in an environment."""
        result: dict[str, Any] = self.request("POST", "/api/v1/deployments", json={
            "name": name, "model": model, "version": version, "environment": environment,
            **spec})
        return result

    def list_deployments(self) -> list[dict[str, Any]]:
        """Every deployment the key may see."""
        result: list[dict[str, Any]] = self.request("GET", "/api/v1/deployments")
        return result

    def get_deployment(self, name: str) -> dict[str, Any]:
        """One deployment and what it routes to."""
        result: dict[str, Any] = self.request("GET", f"/api/v1/deployments/{name}")
        return result

    def update_deployment(self, name: str, **change: Any) -> dict[str, Any]:
        """Change champion / canary / canary_share / shadows / mode / fallback / policy.
        Versions are given as {"version": 2} or {"model": "other", "version": "champion"}."""
        result: dict[str, Any] = self.request("PATCH", f"/api/v1/deployments/{name}",
                                              json=change)
        return result

    def rollback(self, name: str, reason: str | None = None) -> dict[str, Any]:
        """Restore the routing in force before the latest change."""
        result: dict[str, Any] = self.request("POST", f"/api/v1/deployments/{name}/rollback",
                                              json={"reason": reason})
        return result

    def deployment_events(self, name: str) -> list[dict[str, Any]]:
        """A deployment's routing history."""
        result: list[dict[str, Any]] = self.request("GET", f"/api/v1/deployments/{name}/events")
        return result

    def shadow_report(self, name: str) -> dict[str, Any]:
        """Agreement of each shadow version with the answers served."""
        result: dict[str, Any] = self.request("GET", f"/api/v1/deployments/{name}/shadow-report")
        return result

    def ab_report(self, name: str, alpha: float = 0.05) -> dict[str, Any]:
        """Per-arm outcomes and significance of an A/B experiment."""
        result: dict[str, Any] = self.request("GET", f"/api/v1/deployments/{name}/ab-report",
                                              params={"alpha": alpha})
        return result

    # -- inference and feedback -----------------------------------------------------------
    def predict(self, deployment: str, data: Any, *, headers: dict[str, str] | None = None
                ) -> dict[str, Any]:
        """Score rows through the gateway (KServe v1 JSON). `data` is a DataFrame, a list of
        records, or a 2-D array / list of rows in contract order."""
        result: dict[str, Any] = self.request(
            "POST", f"/v1/models/{deployment}:predict", json={"instances": _instances(data)},
            headers=headers or {})
        return result

    def infer(self, deployment: str, body: dict[str, Any], *,
              headers: dict[str, str] | None = None) -> dict[str, Any]:
        """Send a raw Open Inference Protocol v2 request body."""
        result: dict[str, Any] = self.request("POST", f"/v2/models/{deployment}/infer",
                                              json=body, headers=headers or {})
        return result

    def get_prediction(self, request_id: str) -> list[dict[str, Any]]:
        """A logged request on every route it took."""
        result: list[dict[str, Any]] = self.request("GET", f"/api/v1/predictions/{request_id}")
        return result

    def feedback(self, request_id: str, *, row: int = 0, label: Any = None,
                 value: float | None = None, outcome: float | None = None) -> dict[str, Any]:
        """Ground truth and/or business outcome for one served request row."""
        body = {"request_id": request_id, "row": row, "label": label, "value": value,
                "outcome": outcome}
        result: dict[str, Any] = self.request("POST", "/api/v1/feedback", json=body)
        return result

    def feedback_bulk(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        """Many feedback items in one call."""
        result: dict[str, Any] = self.request("POST", "/api/v1/feedback", json={"items": items})
        return result

    # -- keys -----------------------------------------------------------------------------
    def create_key(self, name: str, role: str, **spec: Any) -> dict[str, Any]:
        """Create an API key; the returned `key` is shown only this once."""
        result: dict[str, Any] = self.request("POST", "/api/v1/keys",
                                              json={"name": name, "role": role, **spec})
        return result

    def list_keys(self) -> list[dict[str, Any]]:
        """Every key, without secrets."""
        result: list[dict[str, Any]] = self.request("GET", "/api/v1/keys")
        return result

    def revoke_key(self, key_id: str) -> dict[str, Any]:
        """Revoke a key."""
        result: dict[str, Any] = self.request("DELETE", f"/api/v1/keys/{key_id}")
        return result

    # -- approvals, reviews, audit, webhooks, artifacts (governance) ----------------------
    def request_approval(self, model: str, version: int, target: str, *,
                         deployment: str | None = None, thresholds: dict[str, str] | None = None,
                         reason: str = "") -> dict[str, Any]:
        """Ask to promote a version to staging or production (optionally a deployment)."""
        result: dict[str, Any] = self.request("POST", "/api/v1/approvals", json={
            "model": model, "version": version, "target": target, "deployment": deployment,
            "thresholds": thresholds or {}, "reason": reason})
        return result

    def list_approvals(self, status: str | None = None,
                       model: str | None = None) -> list[dict[str, Any]]:
        """Approval requests on models the key may read."""
        params = {k: v for k, v in (("status", status), ("model", model)) if v}
        result: list[dict[str, Any]] = self.request("GET", "/api/v1/approvals", params=params)
        return result

    def get_approval(self, request_id: int) -> dict[str, Any]:
        """One approval request with votes and evidence gates."""
        result: dict[str, Any] = self.request("GET", f"/api/v1/approvals/{request_id}")
        return result

    def approve(self, request_id: int, reason: str | None = None) -> dict[str, Any]:
        """Approve a request (never your own)."""
        result: dict[str, Any] = self.request("POST", f"/api/v1/approvals/{request_id}/approve",
                                              json={"reason": reason})
        return result

    def reject(self, request_id: int, reason: str) -> dict[str, Any]:
        """Reject a request, saying why."""
        result: dict[str, Any] = self.request("POST", f"/api/v1/approvals/{request_id}/reject",
                                              json={"reason": reason})
        return result

    def attach_impact_assessment(self, request_id: int, document: str | Path | bytes, *,
                                 filename: str | None = None) -> dict[str, Any]:
        """Attach the impact-assessment document to a request."""
        data, name = _file_bytes(document, filename or "impact-assessment.pdf")
        result: dict[str, Any] = self.request(
            "POST", f"/api/v1/approvals/{request_id}/impact-assessment",
            files={"file": (filename or name, data)})
        return result

    def review_flags(self, include_closed: bool = False) -> list[dict[str, Any]]:
        """Actions taken without approval (emergency rollbacks) awaiting review."""
        result: list[dict[str, Any]] = self.request("GET", "/api/v1/reviews",
                                                    params={"all": include_closed})
        return result

    def close_review_flag(self, flag_id: int, note: str) -> dict[str, Any]:
        """Record the after-the-fact review of a flagged action."""
        result: dict[str, Any] = self.request("POST", f"/api/v1/reviews/{flag_id}/close",
                                              json={"note": note})
        return result

    def audit_entries(self, **filters: Any) -> list[dict[str, Any]]:
        """Audit entries, newest first (action, target, actor, outcome, limit, before_seq)."""
        params = {k: v for k, v in filters.items() if v is not None}
        result: list[dict[str, Any]] = self.request("GET", "/api/v1/audit", params=params)
        return result

    def audit_export(self, out: Any, since_seq: int = 0) -> int:
        """Stream the audit chain as JSON lines into a binary file object; return lines."""
        lines = 0
        with self._http.stream("GET", "/api/v1/audit/export", headers=self._headers,
                               params={"since_seq": since_seq}) as response:
            if response.status_code >= 400:
                response.read()
                raise _BY_STATUS.get(response.status_code, StewardError)(response.text)
            for line in response.iter_lines():
                if line:
                    out.write(line.encode() + b"\n")
                    lines += 1
        return lines

    def audit_verify(self) -> dict[str, Any]:
        """Server-side check of the whole chain and its signed digests."""
        result: dict[str, Any] = self.request("GET", "/api/v1/audit/verify")
        return result

    def audit_seal(self) -> dict[str, Any] | None:
        """Sign the current head of the chain now."""
        result: dict[str, Any] | None = self.request("POST", "/api/v1/audit/digests")
        return result

    def create_webhook(self, url: str, events: list[str] | None = None,
                       secret: str | None = None) -> dict[str, Any]:
        """Subscribe a URL to governance events; the secret is returned once."""
        result: dict[str, Any] = self.request("POST", "/api/v1/webhooks", json={
            "url": url, "events": events or [], "secret": secret})
        return result

    def list_webhooks(self) -> list[dict[str, Any]]:
        """Every webhook subscription."""
        result: list[dict[str, Any]] = self.request("GET", "/api/v1/webhooks")
        return result

    def delete_webhook(self, webhook_id: int) -> None:
        """Unsubscribe."""
        self.request("DELETE", f"/api/v1/webhooks/{webhook_id}")

    def download_artifact(self, name: str, ref: str | int = "latest") -> bytes:
        """The version's artifact bytes (needs artifacts:download; audited)."""
        response = self._http.get(f"/api/v1/models/{name}/versions/{ref}/artifact",
                                  headers=self._headers)
        if response.status_code >= 400:
            message = response.json().get("error", response.text)
            raise _BY_STATUS.get(response.status_code, StewardError)(message)
        return response.content


    # -- monitoring -----------------------------------------------------------------------
    def _monitor(self, deployment: str, what: str, window: str | None, last: int | None,
                 **params: Any) -> Any:
        query = {k: v for k, v in {"window": window, "last": last, **params}.items()
                 if v is not None}
        return self.request("GET", f"/api/v1/monitoring/{deployment}/{what}", params=query)

    def drift(self, deployment: str, *, window: str | None = None, last: int | None = None,
              version: str | None = None) -> dict[str, Any]:
        """Feature and prediction drift over `window` ("1h") or the `last` N rows."""
        result: dict[str, Any] = self._monitor(deployment, "drift", window, last,
                                               version=version)
        return result

    def drift_report_html(self, deployment: str, *, window: str | None = None,
                          last: int | None = None, version: str | None = None) -> str:
        """The self-contained HTML drift report."""
        return str(self._monitor(deployment, "drift/report.html", window, last,
                                 version=version))

    def data_quality(self, deployment: str, *, window: str | None = None,
                     last: int | None = None, version: str | None = None) -> dict[str, Any]:
        """Completeness, violations, OOD rate and silent-failure checks."""
        result: dict[str, Any] = self._monitor(deployment, "quality", window, last,
                                               version=version)
        return result

    def performance(self, deployment: str, *, window: str | None = None,
                    last: int | None = None, step: int | None = None) -> dict[str, Any]:
        """Latency/throughput/errors per version and route, feedback metrics, series."""
        result: dict[str, Any] = self._monitor(deployment, "performance", window, last,
                                               step=step)
        return result

    def fairness(self, deployment: str, *, window: str | None = None, last: int | None = None,
                 step: int | None = None) -> dict[str, Any]:
        """Selection rates and parity differences per protected feature."""
        result: dict[str, Any] = self._monitor(deployment, "fairness", window, last, step=step)
        return result

    def monitoring_config(self, deployment: str) -> dict[str, Any]:
        """A deployment's monitoring thresholds and methods."""
        result: dict[str, Any] = self.request("GET", f"/api/v1/monitoring/{deployment}/config")
        return result

    def set_monitoring_config(self, deployment: str, config: dict[str, Any]) -> dict[str, Any]:
        """Replace a deployment's monitoring config (method, threshold, features, ...)."""
        result: dict[str, Any] = self.request("PUT", f"/api/v1/monitoring/{deployment}/config",
                                              json=config)
        return result

    def run_monitoring(self) -> dict[str, Any]:
        """Run one monitoring round now (fold, gauges, alert rules)."""
        result: dict[str, Any] = self.request("POST", "/api/v1/monitoring/run")
        return result

    def create_alert_rule(self, name: str, deployment: str, metric: str, threshold: float,
                          **spec: Any) -> dict[str, Any]:
        """An alert rule (comparator, window, version, feature, retrain, auto_resolve)."""
        result: dict[str, Any] = self.request("POST", "/api/v1/monitoring/alert-rules", json={
            "name": name, "deployment": deployment, "metric": metric, "threshold": threshold,
            **spec})
        return result

    def alert_rules(self, deployment: str | None = None) -> list[dict[str, Any]]:
        """Alert rules."""
        result: list[dict[str, Any]] = self.request(
            "GET", "/api/v1/monitoring/alert-rules",
            params={"deployment": deployment} if deployment else None)
        return result

    def delete_alert_rule(self, rule_id: int) -> None:
        """Delete an alert rule and its alerts."""
        self.request("DELETE", f"/api/v1/monitoring/alert-rules/{rule_id}")

    def alerts(self, deployment: str | None = None, status: str | None = None
               ) -> list[dict[str, Any]]:
        """Alerts, newest first."""
        params = {k: v for k, v in {"deployment": deployment, "status": status}.items() if v}
        result: list[dict[str, Any]] = self.request("GET", "/api/v1/monitoring/alerts",
                                                    params=params)
        return result

    def resolve_alert(self, alert_id: int, note: str | None = None) -> dict[str, Any]:
        """Close an open alert."""
        result: dict[str, Any] = self.request(
            "POST", f"/api/v1/monitoring/alerts/{alert_id}/resolve", json={"note": note})
        return result

def _instances(data: Any) -> list[Any]:
    """Records from a DataFrame; rows from arrays; lists pass through."""
    if hasattr(data, "to_dict") and hasattr(data, "columns"):
        records: list[Any] = data.to_dict(orient="records")
        return records
    if hasattr(data, "tolist"):
        rows: list[Any] = data.tolist()
        return rows
    return list(data)


def _file_bytes(source: str | Path | bytes, default_name: str) -> tuple[bytes, str]:
    if isinstance(source, bytes):
        return source, default_name
    path = Path(source)
    return path.read_bytes(), path.name


def _table_bytes(source: Any) -> tuple[bytes, str]:
    """Paths and bytes go as they are; DataFrames and arrays are sent as Parquet."""
    if isinstance(source, str | Path):
        path = Path(source)
        return path.read_bytes(), path.name
    if isinstance(source, bytes):
        return source, "reference.parquet" if source[:4] == b"PAR1" else "reference.csv"
    import pandas as pd

    frame = source if isinstance(source, pd.DataFrame) else pd.DataFrame(source)
    frame.columns = [str(c) for c in frame.columns]
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue(), "reference.parquet"
