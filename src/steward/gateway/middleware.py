"""Pure-ASGI front door for inference: OIP v2 and KServe v1 routes served without FastAPI.

Everything else passes to the wrapped app untouched. A request costs one body read, one
`orjson` parse, a few NumPy ops and one `send` pair; no routing table, no pydantic, no DB.
"""

from __future__ import annotations

import logging
import time
from collections.abc import MutableMapping
from typing import Any, NoReturn

from starlette.types import ASGIApp, Receive, Scope, Send

from steward import __version__
from steward.errors import BadRequest, PayloadTooLarge, StewardError
from steward.gateway import metrics, protocol, routing
from steward.gateway.serving import Gateway, ModelFailed, new_request_id
from steward.state import AppState

log = logging.getLogger(__name__)
MAX_BODY = 16 * 1024 * 1024
_JSON = (b"content-type", b"application/json")
_NEEDED = frozenset({b"authorization", b"x-request-id", b"x-routing-key", b"x-steward-purpose"})
_SERVER_META = protocol.dump({"name": "steward", "version": __version__, "extensions": []})


class GatewayMiddleware:
    """Serves `/v2/...` and `/v1/models/...`; passes every other path to `app`."""

    def __init__(self, app: ASGIApp, state: AppState) -> None:
        self.app = app
        self.gateway: Gateway = state.extras.get("gateway") or Gateway(state)
        state.extras["gateway"] = self.gateway

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI entry point."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith("/v2/models/") and path.endswith("/infer") and \
                scope["method"] == "POST" and path.count("/") == 4:
            # The hot path, /v2/models/{name}/infer, without the general route parsing.
            await self._guarded(scope, receive, send, path[11:-6], None, "infer")
        elif path.startswith("/v2"):
            await self._v2(scope, receive, send, path)
        elif path.startswith("/v1/models/"):
            await self._v1(scope, receive, send, path)
        else:
            await self.app(scope, receive, send)

    async def _v2(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        parts = path.rstrip("/").split("/")[2:]  # after "", "v2"
        method = scope["method"]
        if method == "GET" and len(parts) <= 2:
            if not parts:
                await _send(send, 200, _SERVER_META, [])
            elif parts == ["health", "live"]:
                await _send(send, 200, b'{"live":true}', [])
            elif parts == ["health", "ready"]:
                ready = self.gateway.holder.snapshot.loaded
                await _send(send, 200 if ready else 503, b'{"ready":%s}' % (
                    b"true" if ready else b"false"), [])
            elif parts[0] == "models" and len(parts) == 2:
                await self._guarded(scope, receive, send, parts[1], None, "metadata")
            else:
                await _error(send, 404, "not found", [])
            return
        if len(parts) < 2 or parts[0] != "models":
            await _error(send, 404, "not found", [])
            return
        name, rest = parts[1], parts[2:]
        version = None
        if len(rest) >= 2 and rest[0] == "versions":
            version, rest = rest[1], rest[2:]
        action = rest[0] if len(rest) == 1 else ("metadata" if not rest else "")
        allowed = {"infer": "POST", "ready": "GET", "metadata": "GET"}.get(action)
        if allowed is None:
            await _error(send, 404, "not found", [])
        elif method != allowed:
            await _error(send, 405, f"use {allowed}", [])
        else:
            await self._guarded(scope, receive, send, name, version, action)

    async def _v1(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        tail = path[len("/v1/models/"):]
        if tail.endswith(":predict"):
            if scope["method"] != "POST":
                await _error(send, 405, "use POST", [])
                return
            await self._guarded(scope, receive, send, tail[:-len(":predict")], None, "v1")
        elif "/" not in tail and scope["method"] == "GET":
            await self._guarded(scope, receive, send, tail, None, "v1status")
        else:
            await _error(send, 404, "not found", [])

    async def _guarded(self, scope: Scope, receive: Receive, send: Send, name: str,
                       version: str | None, action: str) -> None:
        """Authenticate, resolve, run the action; map every error to a JSON status."""
        started = time.perf_counter()
        headers = _headers(scope, self.gateway.holder.snapshot.views.get(name))
        rid = headers.get("x-request-id")
        if not rid or len(rid) > 64 or not rid.isprintable():
            rid = new_request_id()
        extra = [(b"x-request-id", rid.encode())]
        gw = self.gateway
        principal = None
        try:
            auth = headers.get("authorization", "")
            bearer = auth[7:].strip() if auth[:7].lower() == "bearer " else None
            principal = gw.state.keys.authenticate(bearer)
            if action in ("metadata", "ready", "v1status"):
                view = gw.resolve(name, principal, "predict") if principal.allows("predict") \
                    else gw.resolve(name, principal, "deployments:read")
                await self._describe(send, view, version, action, extra)
                return
            view = gw.resolve(name, principal)
            purpose = headers.get("x-steward-purpose")
            gw.admit(view, principal, purpose)
            pinned = None
            if version is not None:
                pinned = routing.pinned(view, version)
                if pinned is None:
                    raise_not_found(name, version)
            message = await receive()
            body: bytes = message.get("body", b"")
            if message.get("more_body"):
                body = await _rest_of_body(receive, body)
            routing_field = view.routing_key
            routing_header = headers.get(routing_field.lower()) if routing_field else None
            routing_header = routing_header or headers.get("x-routing-key")
            if action == "v1":
                def parse(c: Any) -> protocol.Parsed:
                    return protocol.parse_v1(body, c, routing_field)
            else:
                def parse(c: Any) -> protocol.Parsed:
                    return protocol.parse_oip(body, c, routing_field)
            try:
                served, parsed = await gw.serve(view, principal, rid, purpose, parse,
                                                routing_header, pinned, started)
            except ModelFailed as failed:
                extra += [(b"x-model-version", failed.target.label.encode()),
                          (b"x-route", failed.route.encode())]
                metrics.request_done(name, failed.target.label, failed.route, 503,
                                     time.perf_counter() - started)
                await _error(send, 503, "model failed", extra, retry_after=1.0)
                return
            target = served.target
            extra += [(b"x-model-version", target.label.encode()),
                      (b"x-route", served.route.encode())]
            params: dict[str, Any] = {"request_id": rid, "route": served.route}
            if served.ood:
                params["ood"] = served.ood
            if served.fallback:
                params["fallback"] = True
                params["fallback_reason"] = served.fallback_reason
            if action == "v1":
                c = gw.contract(target)
                doc: dict[str, Any] = {"predictions": protocol.v1_predictions(
                    served.outputs, list(c.classes) if c.classes else None),
                    "model_version": target.label, "id": rid, "parameters": params}
            else:
                doc = {"model_name": name, "model_version": target.label,
                       "id": parsed.body_id or rid, "parameters": params,
                       "outputs": protocol.output_tensors(served.outputs, parsed.outputs)}
            await _send(send, 200, protocol.dump(doc), extra)
            metrics.request_done(name, target.label, served.route, 200,
                                 time.perf_counter() - started)
            for job in served.after:
                gw.shadows.submit(job)
        except StewardError as exc:
            if exc.status_code in (401, 403, 429):  # refused attempts go to the audit trail
                gw.state.audit.denied(
                    action=f"inference.{action}", target=f"deployment:{name}",
                    reason=exc.message, actor=principal.name if principal else None,
                    actor_id=principal.key_id if principal else None, request_id=rid,
                    outcome="rate_limited" if exc.status_code == 429 else "denied")
            await _error(send, exc.status_code, exc.message, extra,
                         errors=[e.as_dict() for e in exc.errors] if exc.status_code == 422
                         else None, retry_after=getattr(exc, "retry_after", None))
        except Exception as exc:  # never a stack trace to the client
            log.exception("gateway error on %s: %s", name, exc.__class__.__name__)
            await _error(send, 500, "internal error", extra)

    async def _describe(self, send: Send, view: Any, version: str | None, action: str,
                        extra: list[tuple[bytes, bytes]]) -> None:
        target = view.champion
        if version is not None:
            pinned = routing.pinned(view, version)
            if pinned is None:
                raise_not_found(view.name, version)
            target = pinned[0]
        if action in ("ready", "v1status"):
            try:
                await self.gateway.executor.entry(target, view.policy)
                ready = True
            except Exception:  # not ready, whatever the reason
                ready = view.fallback is not None or view.fallback_default is not None
            body = protocol.dump({"name": view.name, "ready": ready})
            await _send(send, 200 if ready else 503, body, extra)
            return
        c = self.gateway.contract(target)
        versions = [view.champion.label] + ([view.canary.label] if view.canary else [])
        inputs = [{"name": n, "datatype": protocol.CONTRACT_DATATYPE[d], "shape": [-1]}
                  for n, d in zip(c.names, c.dtypes, strict=True)]
        if c.task == "regression":
            outputs = [{"name": "prediction", "datatype": "FP64", "shape": [-1]}]
        else:
            k = len(c.classes) if c.classes else -1
            outputs = [{"name": "label", "datatype": "BYTES", "shape": [-1]},
                       {"name": "probabilities", "datatype": "FP32", "shape": [-1, k]}]
        doc = {"name": view.name, "versions": versions,
               "platform": f"steward-{target.artifact_format}", "inputs": inputs,
               "outputs": outputs,
            "parameters": {"model_version": target.label, "task": c.task,
                           "classes": list(c.classes or []),
                           "tensor_input": {"shape": [-1, c.width], "datatype": "FP64"
                                            if c.numeric else "BYTES"},
                           "environment": view.environment}}
        await _send(send, 200, protocol.dump(doc), extra)


def raise_not_found(name: str, version: str) -> NoReturn:
    """A version the deployment does not serve."""
    from steward.errors import NotFound
    raise NotFound(f"deployment {name!r} serves no version {version!r}", field="version")


def _headers(scope: Scope, view: Any) -> dict[str, str]:
    wanted = _NEEDED
    if view is not None and view.routing_key:
        wanted = _NEEDED | {view.routing_key.lower().encode()}
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]
            if k in wanted}


async def _rest_of_body(receive: Receive, first: bytes) -> bytes:
    chunks = [first]
    size = len(first)
    message: MutableMapping[str, Any] = {"more_body": True}
    while message.get("more_body"):
        message = await receive()
        if message["type"] == "http.disconnect":
            raise BadRequest("client disconnected")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise PayloadTooLarge(f"request body exceeds {MAX_BODY // (1024 * 1024)} MB")
        chunks.append(chunk)
    return b"".join(chunks)


async def _send(send: Send, status: int, body: bytes,
                extra: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [_JSON, (b"content-length", str(len(body)).encode()), *extra]})
    await send({"type": "http.response.body", "body": body})


async def _error(send: Send, status: int, message: str, extra: list[tuple[bytes, bytes]],
                 errors: list[dict[str, str]] | None = None,
                 retry_after: float | None = None) -> None:
    doc: dict[str, Any] = {"error": message}
    if errors:
        doc["errors"] = errors
    headers = list(extra)
    if retry_after is not None and status in (429, 503):
        headers.append((b"retry-after", str(max(1, round(retry_after))).encode()))
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await _send(send, status, protocol.dump(doc), headers)
