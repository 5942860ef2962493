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
                err: StewardError = cls(message)  # type: ignore[call-arg]
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
