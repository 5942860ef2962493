"""Shadow traffic: after the answer is sent, copies run on one low-priority thread, bounded.

A full backlog drops the copy (counted), never the primary request.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy.typing as npt

from steward.deployments.snapshot import DeploymentView, RouteTarget
from steward.gateway import metrics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShadowJob:
    """One validated request to replay on one shadow version."""

    view: DeploymentView
    target: RouteTarget
    X: npt.NDArray[Any]
    names: tuple[str, ...]
    request_id: str
    caller: str
    purpose: str | None


class ShadowRunner:
    """A bounded queue drained by one daemon thread."""

    def __init__(self, work: Callable[[ShadowJob], None], maxsize: int = 256) -> None:
        self._work = work
        self._queue: queue.Queue[ShadowJob | None] = queue.Queue(maxsize)
        self._thread: threading.Thread | None = None
        self.dropped = 0
        self.done = 0

    def submit(self, job: ShadowJob) -> bool:
        """Queue a copy; False (and counted) when the backlog is full."""
        if self._thread is None:
            self.start()
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            self.dropped += 1
            metrics.shadow_dropped(job.view.name)
            return False
        return True

    def start(self) -> None:
        """Start the worker thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="steward-shadow",
                                            daemon=True)
            self._thread.start()

    def join(self, timeout: float = 10.0) -> None:
        """Wait until every queued copy has run (tests and shutdown)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.005)

    def stop(self) -> None:
        """Finish queued copies and stop."""
        if self._thread is not None:
            self.join()
            self._queue.put(None)
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            try:
                if job is None:
                    return
                self._work(job)
                self.done += 1
            except Exception as exc:  # a shadow must never take the thread down
                log.warning("shadow %s failed: %s", job.target.label if job else "?",
                            exc.__class__.__name__)
            finally:
                self._queue.task_done()
