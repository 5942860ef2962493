"""Model calls: inline or in a worker thread, with adaptive micro-batching of concurrent requests.

Requests for the same runtime that are ready in the same event-loop turn are stacked into one
model call: the first one schedules a flush (`call_soon` when `max_batch_wait_ms` is 0, so it
adds no latency, only gathers what is already queued; `call_later` otherwise) and everyone
awaits a future resolved with their slice of the outputs.

The flush is also the prediction log's group commit: each request brings a `Log` callback that
turns its outputs into its log line, and the lines of a batch go to the spool in one `write(2)`
before any future resolves — so no answer is sent before its record is in the kernel, and a
request waits for the event loop once, not twice.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import numpy.typing as npt

from steward.errors import Unavailable
from steward.gateway import metrics
from steward.gateway.models import Loaded

Outputs = dict[str, npt.NDArray[Any]]
Log = Callable[[Outputs], bytes]  # a request's outputs -> its prediction-log line
Write = Callable[[bytes], None]  # durable append of lines (the spool)
SAMPLE_EVERY = 16


class LogWriteFailed(Unavailable):
    """The prediction log could not be written: the answer must not be sent (503)."""


def write_logged(write: Write, lines: Callable[[], bytes]) -> None:
    """Build and append log lines; any failure (disk full or gone, a line that cannot be
    encoded) becomes `LogWriteFailed`."""
    try:
        write(lines())
    except Exception as exc:
        raise LogWriteFailed(f"prediction log not written ({exc.__class__.__name__})") from exc


def call_model(entry: Loaded, X: npt.NDArray[Any], model: str, version: int) -> Outputs:
    """One timed model call; feeds the inline/thread decision and the batch-size metric."""
    # CPU time of this thread, not wall time: under load a wall-clock sample includes time
    # the thread was preempted, which would wrongly push a fast model off the event loop
    # (and, measured there, keep it off). Runtimes run single-threaded in the caller.
    # thread_time() is a real syscall here (~9 % of a worker at full load when taken twice
    # per call), so one call in SAMPLE_EVERY is timed.
    entry.calls += 1
    if entry.calls % SAMPLE_EVERY:
        out = entry.runtime.predict(X)
        entry.batch_rows(X.shape[0])
    else:
        start = time.thread_time()
        out = entry.runtime.predict(X)
        entry.observe(time.thread_time() - start, X.shape[0])
    metrics.batch(model, version, X.shape[0])
    return out


class Batcher:
    """Coalesces concurrent requests for one runtime into model calls of up to `max_rows`."""

    def __init__(self, pool: ThreadPoolExecutor, write: Write, model: str, version: int,
                 max_rows: int, wait_s: float) -> None:
        self._pool = pool
        self._write = write
        self._model, self._version = model, version
        self._max_rows, self._wait_s = max_rows, wait_s
        self._pending: list[_Item] = []
        self._rows = 0
        self._handle: asyncio.Handle | None = None
        self._entry: Loaded | None = None

    def submit(self, entry: Loaded, X: npt.NDArray[Any], log: Log) -> asyncio.Future[Outputs]:
        """Queue X; the future resolves to X's rows of the outputs once they are logged."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Outputs] = loop.create_future()
        self._entry = entry
        self._pending.append((X, fut, log))
        self._rows += X.shape[0]
        if self._rows >= self._max_rows:
            if self._handle is not None:
                self._handle.cancel()
            self._flush()
        elif self._handle is None:
            self._handle = (loop.call_soon(self._flush) if self._wait_s <= 0
                            else loop.call_later(self._wait_s, self._flush))
        return fut

    def _flush(self) -> None:
        self._handle = None
        items, self._pending, self._rows = self._pending, [], 0
        entry = self._entry
        if not items or entry is None:
            return
        X = items[0][0] if len(items) == 1 else np.concatenate([x for x, _, _ in items])
        if entry.inline:
            try:
                out = call_model(entry, X, self._model, self._version)
            except Exception as exc:  # delivered to every waiter
                _fail(items, exc)
                return
            _deliver(items, out, self._write)
            return
        loop = asyncio.get_running_loop()
        cf = loop.run_in_executor(self._pool, call_model, entry, X, self._model, self._version)
        cf.add_done_callback(self._completed(items))

    def _completed(self, items: list[_Item]) -> Callable[[asyncio.Future[Outputs]], None]:
        def done(f: asyncio.Future[Outputs]) -> None:
            if f.cancelled():  # the pool was shut down
                _fail(items, RuntimeError("model call cancelled"))
            elif (exc := f.exception()) is not None:
                _fail(items, exc)
            else:
                _deliver(items, f.result(), self._write)
        return done


_Item = tuple[npt.NDArray[Any], "asyncio.Future[Outputs]", Log]


def _fail(items: list[_Item], exc: BaseException) -> None:
    for _, fut, _ in items:
        if not fut.done():
            fut.set_exception(exc)


def _deliver(items: list[_Item], out: Outputs, write: Write) -> None:
    """Log every waiting request's answer in one write, then hand out the answers."""
    if len(items) == 1:
        parts = [out]
    else:
        parts, offset = [], 0
        for X, _, _ in items:
            n = X.shape[0]
            parts.append({k: v[offset:offset + n] for k, v in out.items()})
            offset += n
    # A request already done (timed out and answered by its fallback) is not logged here.
    live = [(fut, part, log) for (_, fut, log), part in zip(items, parts, strict=True)
            if not fut.done()]
    if not live:
        return
    try:
        write_logged(write, lambda: b"".join([log(part) for _, part, log in live]))
    except LogWriteFailed as failed:  # no answer may leave unlogged
        for fut, _, _ in live:
            fut.set_exception(failed)
        return
    for fut, part, _ in live:
        fut.set_result(part)
