"""The monitoring loop inside every server process; only the lease holder does the work.

Every ``monitor_interval_s`` each process tries to take (or renew) the aggregator lease;
the holder folds new log rows into buckets, refreshes the drift gauges and, every
``monitor_alert_interval_s``, evaluates the alert rules. A holder that dies stops renewing
and another process takes over when the lease expires (``monitor_lease_s``).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from steward.deployments.tables import Deployment
from steward.monitoring import alerts, metrics, service
from steward.monitoring.aggregator import Layouts, acquire_lease, fold_pass, release_lease
from steward.monitoring.windows import make_window
from steward.settings import Settings

log = logging.getLogger(__name__)


class Monitor:
    """Background aggregation, gauges and alert evaluation for one server process."""

    def __init__(self, factory: sessionmaker[Session], settings: Settings) -> None:
        self.factory = factory
        self.settings = settings
        self.layouts = Layouts()
        self.holder = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_alerts = 0.0

    def __repr__(self) -> str:
        return f"Monitor(holder={self.holder!r})"

    def run_once(self, *, grace_s: float | None = None, alerts_due: bool | None = None,
                 folded_only: bool = False) -> dict[str, Any]:
        """One round (if leader): fold, gauges, alerts when due. Returns what was done."""
        s = self.settings
        if not acquire_lease(self.factory, self.holder, s.monitor_lease_s):
            return {"leader": False}
        folded = fold_pass(self.factory, self.layouts,
                           grace_s=s.monitor_grace_s if grace_s is None else grace_s)
        self.refresh_gauges(folded_only=folded_only)
        now = time.monotonic()
        due = now - self._last_alerts >= s.monitor_alert_interval_s if alerts_due is None \
            else alerts_due
        opened: list[int] = []
        if due:
            self._last_alerts = now
            opened = alerts.evaluate_all(self.factory, self.layouts)
        return {"leader": True, "folded": folded, "alerts_opened": opened}

    def refresh_gauges(self, *, folded_only: bool = False) -> None:
        """Recompute each deployment's drift gauges (champion, configured window/statistic).

        The periodic loop passes `folded_only`: gauges then come from buckets alone, never
        from parsing the unfolded tail of the log on every round."""
        with self.factory() as session:
            names = list(session.scalars(select(Deployment.name)))
        for name in names:
            try:
                with self.factory() as session, session.begin():
                    config = service.get_config(session=session, deployment=name)
                    report = service.drift(session=session, layouts=self.layouts,
                                           deployment=name, folded_only=folded_only,
                                           window=make_window(config.gauge_window, None))
                    metrics.store_gauges(session, deployment=name, report=report,
                                         statistic=config.gauge_statistic)
            except Exception as exc:  # a broken deployment must not stop the others
                log.warning("drift gauges of %s failed: %s", name, exc.__class__.__name__)

    def _loop(self) -> None:
        while not self._stop.wait(self.settings.monitor_interval_s):
            try:
                self.run_once(folded_only=True)
            except Exception as exc:  # the database may be briefly unreachable
                log.warning("monitoring round failed: %s", exc.__class__.__name__)

    def start(self) -> None:
        """Start the loop in a daemon thread."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="steward-monitor",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the loop and hand the lease over."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=30)
            self._thread = None
        try:
            release_lease(self.factory, self.holder)
        except Exception as exc:  # shutting down anyway
            log.warning("releasing the monitoring lease failed: %s", exc.__class__.__name__)
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
