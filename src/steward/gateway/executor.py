"""Calling a version's runtime: load on first use, inline or threaded, batched, with a timeout.

Every answer is written to the prediction log (`Log` callback, `Write` sink) before `predict`
returns it: batched answers by the batch's group commit, unbatched ones one by one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import numpy.typing as npt

from steward.deployments.policy import Policy
from steward.deployments.snapshot import RouteTarget
from steward.gateway.batching import (
    Batcher,
    Log,
    Outputs,
    Write,
    call_model,
    write_logged,
)
from steward.gateway.models import Loaded, ModelCache, cache_key


class ModelTimeout(Exception):
    """The model did not answer within the deployment's `timeout_ms`."""


class Executor:
    """Runs predictions for the gateway (one per worker process)."""

    def __init__(self, cache: ModelCache, pool: ThreadPoolExecutor, write: Write) -> None:
        self.cache = cache
        self._pool = pool
        self._write = write
        self._batchers: dict[Any, Batcher] = {}

    async def entry(self, target: RouteTarget, policy: Policy) -> Loaded:
        """The loaded runtime; a cold load runs in a thread under the deployment's timeout."""
        entry = self.cache.peek(target)
        if entry is not None:
            return entry
        loop = asyncio.get_running_loop()
        fut = loop.run_in_executor(self._pool, self.cache.load, target, policy.idle_unload_s)
        # A cold start is allowed well beyond the request timeout: it happens once per worker.
        return await asyncio.wait_for(fut, max(policy.timeout_ms / 1000.0 * 10, 30.0))

    def predict(self, target: RouteTarget, X: npt.NDArray[Any], policy: Policy,
                log: Log) -> Awaitable[Outputs]:
        """Outputs for X's rows from `target`, logged; raises the model's exception,
        `ModelTimeout` or `LogWriteFailed` when awaited.

        The usual case — a loaded fast model, batching on — returns the batch future itself
        (one coroutine less per request)."""
        entry = self.cache.peek(target)
        if entry is not None and entry.inline and policy.batching and \
                X.shape[0] < policy.max_batch_size:
            return self._batcher(target, policy).submit(entry, X, log)
        return self._predict(target, X, policy, log)

    def _batcher(self, target: RouteTarget, policy: Policy) -> Batcher:
        key = (cache_key(target), policy.max_batch_size, policy.max_batch_wait_ms)
        batcher = self._batchers.get(key)
        if batcher is None:
            batcher = self._batchers.setdefault(key, Batcher(
                self._pool, self._write, target.model, target.version, policy.max_batch_size,
                policy.max_batch_wait_ms / 1000.0))
        return batcher

    async def _predict(self, target: RouteTarget, X: npt.NDArray[Any], policy: Policy,
                       log: Log) -> Outputs:
        entry = await self.entry(target, policy)
        if policy.batching and X.shape[0] < policy.max_batch_size:
            fut = self._batcher(target, policy).submit(entry, X, log)
            if entry.inline:
                return await fut
            return await self._timed(fut, policy)
        if entry.inline:
            out = call_model(entry, X, target.model, target.version)
        else:
            loop = asyncio.get_running_loop()
            out = await self._timed(loop.run_in_executor(
                self._pool, call_model, entry, X, target.model, target.version), policy)
        write_logged(self._write, lambda: log(out))
        return out

    async def _timed(self, fut: asyncio.Future[Outputs], policy: Policy) -> Outputs:
        try:
            return await asyncio.wait_for(fut, policy.timeout_ms / 1000.0)
        except TimeoutError as exc:
            raise ModelTimeout(f"no answer within {policy.timeout_ms:g} ms") from exc

    def forget(self, keep: set[Any]) -> None:
        """Drop batchers of runtimes no longer served."""
        for key in list(self._batchers):
            if key[0] not in keep:
                self._batchers.pop(key, None)


def remap(X: npt.NDArray[Any], source: tuple[str, ...], dest: tuple[str, ...],
          numeric: bool) -> npt.NDArray[Any]:
    """X's columns re-ordered for another contract (absent features become null)."""
    if source == dest:
        return X
    index = {n: j for j, n in enumerate(source)}
    out: npt.NDArray[Any] = np.full((X.shape[0], len(dest)), np.nan if numeric else None,
                                    dtype=np.float64 if numeric else object)
    for j, name in enumerate(dest):
        if name in index:
            out[:, j] = X[:, index[name]]
    return out
