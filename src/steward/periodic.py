"""A daemon thread running one job every few seconds, for the small background flushers."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Periodic:
    """Calls `tick` every `interval_s` until stopped; failures are logged and retried.

    `final` runs once after the thread has stopped (e.g. a last flush of queued work).
    """

    def __init__(self, name: str, interval_s: float, tick: Callable[[], object], *,
                 final: Callable[[], object] | None = None) -> None:
        self.name = name
        self._interval = interval_s
        self._tick = tick
        self._final = final
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (idempotent)."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the thread, then run `final` once."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
        if self._final is not None:
            try:
                self._final()
            except Exception as exc:  # shutting down: report, never raise
                log.warning("%s: final run failed: %s", self.name, exc.__class__.__name__)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._tick()
            except Exception as exc:  # the database may be briefly unreachable
                log.warning("%s failed: %s; retrying", self.name, exc.__class__.__name__)
