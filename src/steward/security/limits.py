"""Per-key rate limits and daily query budgets across workers (G7), cheap on the hot path.

Design: fixed windows (one minute, one UTC day) counted in the `usage_counters` table.
`check` never touches the database: it compares the last known cluster-wide count plus this
worker's unflushed increments with the key's limit. A background thread flushes increments
as batched upserts and re-reads the counts of the current windows every `interval_s`
(the sync interval, 0.2 s by default). So all workers share one budget; the price is that a
burst may overshoot a limit by at most what the other workers admit within one interval.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from steward.errors import TooManyRequests
from steward.periodic import Periodic
from steward.security.principal import Principal
from steward.security.tables import UsageCounter

log = logging.getLogger(__name__)
_Window = tuple[str, str, int]  # (key_id, kind, window index)


class Limits:
    """`check(principal, deployment)` admits a request or raises `TooManyRequests`."""

    def __init__(self, factory: sessionmaker[Session], interval_s: float = 0.2) -> None:
        self._factory = factory
        self._interval = interval_s
        self._known: dict[_Window, int] = {}
        self._pending: dict[_Window, int] = {}
        self._inflight: dict[_Window, int] = {}  # flushed, not yet in `_known`
        self._lock = threading.Lock()
        self._periodic = Periodic("steward-limits", self._interval, self.flush,
                                  final=self.flush)
        self._rounds = 0

    def check(self, principal: Principal, deployment: Any = None) -> None:
        """Count one request for the key; raise 429 with Retry-After when over a limit.

        Limits are per key across every deployment; `deployment` is accepted for the gateway.
        """
        per_minute, per_day = principal.rate_limit_per_minute, principal.daily_budget
        if per_minute is None and per_day is None:
            return
        now = time.time()
        windows: list[_Window] = []
        with self._lock:
            if per_minute is not None:
                w = (principal.key_id, "m", int(now // 60))
                if self._used(w) >= per_minute:
                    raise TooManyRequests(f"rate limit of {per_minute} requests per minute "
                                          "reached", retry_after=60 - now % 60)
                windows.append(w)
            if per_day is not None:
                w = (principal.key_id, "d", int(now // 86400))
                if self._used(w) >= per_day:
                    raise TooManyRequests(f"daily budget of {per_day} requests used up",
                                          retry_after=86400 - now % 86400)
                windows.append(w)
            for w in windows:
                self._pending[w] = self._pending.get(w, 0) + 1

    def __call__(self, principal: Principal, deployment: Any = None) -> float | None:
        """The gateway's `RateLimiter` form: seconds until a retry may pass, or None to admit."""
        try:
            self.check(principal, deployment)
        except TooManyRequests as exc:
            return exc.retry_after
        return None

    def _used(self, window: _Window) -> int:
        return (self._known.get(window, 0) + self._pending.get(window, 0)
                + self._inflight.get(window, 0))

    def flush(self) -> None:
        """Push this worker's increments and pull everyone's counts for the current windows."""
        with self._lock:
            pending, self._pending = self._pending, {}
            self._inflight = pending
            active = bool(self._known)
        if not pending and not active:
            return
        now = time.time()
        minute, day = int(now // 60), int(now // 86400)
        try:
            with self._factory() as session, session.begin():
                if pending:
                    _add(session, pending)
                rows = session.execute(select(
                    UsageCounter.key_id, UsageCounter.kind, UsageCounter.period,
                    UsageCounter.count).where(or_(
                        (UsageCounter.kind == "m") & (UsageCounter.period == minute),
                        (UsageCounter.kind == "d") & (UsageCounter.period == day)))).all()
                self._rounds += 1
                if self._rounds % 300 == 0:
                    session.execute(delete(UsageCounter).where(or_(
                        (UsageCounter.kind == "m") & (UsageCounter.period < minute - 60),
                        (UsageCounter.kind == "d") & (UsageCounter.period < day - 35))))
        except Exception:
            with self._lock:  # keep the increments for the next round
                self._inflight = {}
                for w, n in pending.items():
                    self._pending[w] = self._pending.get(w, 0) + n
            raise
        with self._lock:
            self._known = {(k, kind, w): c for k, kind, w, c in rows}
            self._inflight = {}

    def start(self) -> None:
        """Start the background flusher."""
        self._periodic.start()

    def stop(self) -> None:
        """Stop the flusher after one last flush."""
        self._periodic.stop()


def _add(session: Session, pending: dict[_Window, int]) -> None:
    """Batched upsert: count += delta per window."""
    rows = [{"key_id": k, "kind": kind, "period": w, "count": n}
            for (k, kind, w), n in pending.items()]
    dialect = session.get_bind().dialect.name
    ins: Any = postgresql.insert(UsageCounter) if dialect == "postgresql" else \
        sqlite.insert(UsageCounter)
    stmt = ins.on_conflict_do_update(
        index_elements=["key_id", "kind", "period"],
        set_={"count": UsageCounter.count + ins.excluded["count"]})
    session.execute(stmt, rows)
