"""The governed inference pipeline: auth, routing, validation, resilient predict, log, shadows."""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from steward.deployments.snapshot import DeploymentView, RouteTarget
from steward.errors import (
    InvalidInput,
    NotFound,
    PermissionDenied,
    StewardError,
    TooManyRequests,
    Unavailable,
)
from steward.gateway import metrics, routing, validation
from steward.gateway.batching import LogWriteFailed
from steward.gateway.breaker import Breakers
from steward.gateway.executor import Executor, remap
from steward.gateway.models import ModelCache, cache_key
from steward.gateway.protocol import Parsed
from steward.gateway.shadows import ShadowJob, ShadowRunner
from steward.gateway.views import Snapshot, ViewHolder, targets_of
from steward.predictions import records
from steward.predictions.masking import mask_columns
from steward.security.authz import purpose_denial
from steward.security.principal import Principal
from steward.state import AppState

log = logging.getLogger(__name__)
SWITCH_INTERVAL_S = 0.0005
Outputs = dict[str, npt.NDArray[Any]]



@dataclass
class Served:
    """What one inference request produced, ready to format and log."""

    view: DeploymentView
    target: RouteTarget
    route: str
    outputs: Outputs
    request_id: str
    ood: list[str]
    fallback: bool = False
    fallback_reason: str | None = None
    error: str | None = None
    after: Sequence[ShadowJob] = ()


class Gateway:
    """Per-worker serving state: snapshot, model cache, breakers, in-flight counts."""

    def __init__(self, state: AppState, *, shadow_backlog: int = 256) -> None:
        self.state = state
        self.pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="steward-predict")
        self.cache = ModelCache(state.store)
        self.executor = Executor(self.cache, self.pool, state.spool.append)
        self.holder = ViewHolder(state.factory, on_swap=self._swapped)
        self.breakers = Breakers()
        self.inflight: dict[str, int] = {}
        self.shadows = ShadowRunner(self._run_shadow, shadow_backlog)

        self._pii_key = state.pii_key
        self._screens: dict[tuple[int, float | None], validation.Screen] = {}
        self._stop = threading.Event()
        self._janitor: threading.Thread | None = None
        self._metrics_timer: asyncio.TimerHandle | None = None
        state.revisions.on_change("deployments", self.holder.listener)
        state.revisions.on_change("aliases", self.holder.listener)

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        """Load the snapshot if the poller has not yet, and start the idle-unload janitor."""
        if not self.holder.snapshot.loaded:
            self.holder.listener()
        # Background threads (spool shipper, revision poller) run Python while requests wait
        # for the GIL after every syscall or onnxruntime call; the default 5 ms switch interval
        # let one shipper batch add 5 ms per hand-off to a request's latency.
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        if self._janitor is None:
            self._janitor = threading.Thread(target=self._sweep, name="steward-janitor",
                                             daemon=True)
            self._janitor.start()
        if self._metrics_timer is None:
            self._schedule_metrics(asyncio.get_running_loop())

    def _schedule_metrics(self, loop: asyncio.AbstractEventLoop) -> None:
        def tick() -> None:
            metrics.flush()
            self._schedule_metrics(loop)

        self._metrics_timer = loop.call_later(metrics.FLUSH_S, tick)

    def close(self) -> None:
        """Finish shadow work and stop threads."""
        self._stop.set()
        if self._metrics_timer is not None:
            self._metrics_timer.cancel()
            self._metrics_timer = None
        metrics.flush()
        self.shadows.stop()
        self.pool.shutdown(wait=False, cancel_futures=True)

    def _sweep(self) -> None:
        while not self._stop.wait(1.0):
            for digest in self.cache.unload_idle():
                log.info("unloaded idle model %s", digest[:12])

    def _swapped(self, snapshot: Snapshot) -> None:
        wanted = [(t, v.policy.idle_unload_s) for v in snapshot.views.values()
                  for t in targets_of(v)]
        keep = {cache_key(t) for t, _ in wanted}
        self.cache.retain(keep)
        self.executor.forget(keep)
        # Warm every served version off the event loop so no request pays a cold start.
        threading.Thread(target=self.cache.preload, args=(wanted,), name="steward-preload",
                         daemon=True).start()

    # -- access -------------------------------------------------------------------------------
    def resolve(self, name: str, principal: Principal, operation: str = "predict"
                ) -> DeploymentView:
        """The view if the caller may use it; unknown and unreadable both answer 404."""
        view = self.holder.snapshot.views.get(name)
        if view is not None and principal.allows(operation, name, view.environment):
            return view
        if view is not None and principal.allows("deployments:read", name, view.environment):
            raise PermissionDenied(f"this key lacks {operation!r} on {name!r} in "
                                   f"{view.environment}")
        raise NotFound(f"deployment {name!r} not found", field="deployment")

    def admit(self, view: DeploymentView, principal: Principal, purpose: str | None) -> None:
        """Purpose limitation (G8) and per-key rate limits / budgets (G7)."""
        refusal = purpose_denial(principal, view.allowed_purposes, purpose)
        if refusal is not None:
            raise PermissionDenied(refusal)
        wait = self.state.limits(principal, view)  # per-key limits and budgets (G7)
        if wait is not None:
            raise TooManyRequests("rate limit reached for this key", retry_after=wait)

    def contract(self, target: RouteTarget) -> validation.CompiledContract:
        """Compiled contract of a served version."""
        c = self.holder.snapshot.contracts.get(target.version_id)
        if c is None:
            c = validation.compile_contract(target.contract, target.profile)
        return c

    # -- the pipeline -------------------------------------------------------------------------
    async def serve(self, view: DeploymentView, principal: Principal, request_id: str,
                    purpose: str | None, parse: Callable[[validation.CompiledContract], Parsed],
                    routing_header: str | None, pinned: tuple[RouteTarget, str] | None,
                    started: float) -> tuple[Served, Parsed]:
        """Route, validate, predict (with fallback) and log one request; raise `StewardError`s."""
        policy = view.policy
        count = self.inflight.get(view.name, 0)
        if count >= policy.max_queue:
            metrics.shed(view.name)
            raise Unavailable(f"deployment {view.name!r} is at capacity", retry_after=1.0)
        self.inflight[view.name] = count + 1
        try:
            champion_c = self.contract(view.champion)
            parsed = parse(champion_c)
            if pinned is not None:
                target, route = pinned
            else:
                key = parsed.routing_value or routing_header or request_id
                target, route = routing.choose(view, key)
            c = champion_c
            if target.version_id != view.champion.version_id:
                c = self.contract(target)
                if c.names != champion_c.names:
                    parsed = parse(c)
            margin = None if policy.ood_policy == "off" else policy.ood_margin
            screen = self._screens.get((target.version_id, margin))
            if screen is None:
                screen = self._screens.setdefault((target.version_id, margin),
                                                  validation.screen(c, margin))
            flags = validation.inspect(c, parsed.X, screen)
            if flags and policy.ood_policy == "reject":
                raise InvalidInput("values outside the reference distribution: "
                                   + ", ".join(flags), errors=[_ood_error(f) for f in flags])
            try:
                served = await self._predict(view, target, route, parsed.X, c, request_id,
                                             flags, principal.key_id, purpose, started)
            except ModelFailed as failed:
                self.log_failure(failed, parsed, c.names, request_id, principal, purpose,
                                 started)
                raise
            if view.shadows:
                served.after = [ShadowJob(view, s, parsed.X, c.names, request_id,
                                          principal.key_id, purpose) for s in view.shadows]
            return served, parsed
        finally:
            self.inflight[view.name] -= 1

    async def _predict(self, view: DeploymentView, target: RouteTarget, route: str,
                       X: npt.NDArray[Any], c: validation.CompiledContract, request_id: str,
                       flags: list[str], caller: str, purpose: str | None,
                       started: float) -> Served:
        """The answer of `target`, else of the fallback; logged before it is returned."""
        policy = view.policy
        breaker = self.breakers.get(view.name, target.version_id, policy)
        if breaker.allow():
            try:
                out = await self.executor.predict(target, X, policy, functools.partial(
                    self.log_line, view, target, route, X, c.names, request_id, caller,
                    purpose, started, flags, False, None))
            except LogWriteFailed:
                raise
            except Exception as exc:  # any model failure becomes a fallback
                breaker.record(True)
                reason = "timeout" if exc.__class__.__name__ == "ModelTimeout" else "model_error"
                # The class only: messages may quote input values.
                log.warning("model %s failed on %s: %s", target.label, view.name,
                            exc.__class__.__name__)
                error = exc.__class__.__name__
            else:
                breaker.record(False)
                return Served(view, target, route, out, request_id, flags)
        else:
            reason, error = "circuit_open", "CircuitOpen"
        metrics.fallback(view.name, reason)
        if view.fallback is not None:
            fc = self.contract(view.fallback)
            try:
                out = await self.executor.predict(
                    view.fallback, remap(X, c.names, fc.names, fc.numeric), policy,
                    functools.partial(self.log_line, view, view.fallback, routing.FALLBACK, X,
                                      c.names, request_id, caller, purpose, started, flags, True,
                                      error))
                return Served(view, view.fallback, routing.FALLBACK, out, request_id, flags,
                              True, reason, error)
            except LogWriteFailed:
                raise
            except Exception as exc:
                log.warning("fallback %s failed on %s: %s", view.fallback.label, view.name,
                            exc.__class__.__name__)
        if view.fallback_default is not None:
            out = _default_outputs(view.fallback_default, X.shape[0])
            self.state.spool.append(self.log_line(
                view, target, routing.FALLBACK, X, c.names, request_id, caller, purpose, started,
                flags, True, error, out))
            return Served(view, target, routing.FALLBACK, out, request_id, flags, True, reason,
                          error)
        raise ModelFailed(view, target, route, error)

    def log_line(self, view: DeploymentView, target: RouteTarget, route: str,
                 X: npt.NDArray[Any], names: tuple[str, ...], request_id: str, caller: str,
                 purpose: str | None, started: float, ood: list[str], fallback: bool,
                 error: str | None, outputs: Outputs | None) -> bytes:
        """One prediction-log line (`predictions.records`): inputs columnar, PII masked."""
        columns: dict[str, Any] = dict(zip(names, X.T.tolist(), strict=True))
        if view.pii_features:
            columns = mask_columns(columns, view.pii_features, self._pii_key)
        confidence = None
        if outputs is not None:
            probs = outputs.get("probabilities")
            if probs is not None and len(probs):
                confidence = max(probs[0].tolist())  # (NumPy's max costs ~2 µs on 2 values)
        return records.encode(
            (time.time(), request_id, view.name, view.environment, target.model, target.version,
             target.version_id, route, int(X.shape[0]), confidence,
             (time.perf_counter() - started) * 1e3, fallback, error, caller, purpose),
            columns, outputs, ood)

    def log_failure(self, failed: ModelFailed, parsed: Parsed, names: tuple[str, ...],
                    request_id: str, principal: Principal, purpose: str | None,
                    started: float) -> None:
        """Log a request no model could answer (503)."""
        self.state.spool.append(self.log_line(
            failed.view, failed.target, failed.route, parsed.X, names, request_id,
            principal.key_id, purpose, started, [], False, failed.error, None))

    def _run_shadow(self, job: ShadowJob) -> None:
        started = time.perf_counter()
        c = self.contract(job.target)
        X = remap(job.X, job.names, c.names, c.numeric)
        error, out = None, None
        try:
            validation.check(c, X)
            entry = self.cache.load(job.target, job.view.policy.idle_unload_s)
            out = entry.runtime.predict(X)
        except StewardError as exc:
            error = exc.__class__.__name__
        except Exception as exc:  # logged as the shadow's error, never raised
            error = exc.__class__.__name__
        self.state.spool.append(self.log_line(
            job.view, job.target, routing.SHADOW, X, c.names, job.request_id, job.caller,
            job.purpose, started, [], False, error, out))


class ModelFailed(Exception):
    """No model and no fallback could answer."""

    def __init__(self, view: DeploymentView, target: RouteTarget, route: str,
                 error: str) -> None:
        super().__init__("model failed")
        self.view, self.target, self.route, self.error = view, target, route, error


def _ood_error(feature: str) -> Any:
    from steward.errors import FieldError
    return FieldError(feature, "value outside the reference distribution")


def _default_outputs(default: dict[str, Any], rows: int) -> Outputs:
    """The configured default answer repeated for every row."""
    out: Outputs = {}
    for name, value in default.items():
        if name == "probabilities":
            out[name] = np.tile(np.asarray(value, dtype=np.float32), (rows, 1))
        elif isinstance(value, str):
            out[name] = np.array([value] * rows)
        else:
            out[name] = np.full(rows, value, dtype=np.float64)
    return out


# uuid4() costs one getrandom(2) syscall per id (~30 µs on the sandboxed hosts measured);
# a random per-process prefix plus a counter is as unique and costs no syscall.
_ID_PREFIX = uuid.uuid4().hex[:20]
_ids = itertools.count()


def new_request_id() -> str:
    """A fresh request id (32 hex chars, unique across processes)."""
    return f"{_ID_PREFIX}{next(_ids) & 0xFFFFFFFFFFFF:012x}"
