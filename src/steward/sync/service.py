"""Bump and poll revision counters."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from steward.db import utcnow
from steward.sync.tables import StateRevision

log = logging.getLogger(__name__)


def bump(session: Session, topic: str) -> None:
    """Increase `topic`'s revision inside the caller's transaction."""
    result = session.execute(
        update(StateRevision)
        .where(StateRevision.topic == topic)
        .values(revision=StateRevision.revision + 1, updated_at=utcnow())
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        session.add(StateRevision(topic=topic, revision=1, updated_at=utcnow()))


class Revisions:
    """Polls revision counters and calls the listeners of topics that moved."""

    def __init__(self, factory: sessionmaker[Session], interval_s: float) -> None:
        self._factory = factory
        self._interval = interval_s
        self._seen: dict[str, int] = {}
        self._listeners: dict[str, list[Callable[[], None]]] = {}
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._polling = threading.Lock()

    def on_change(self, topic: str, listener: Callable[[], None]) -> None:
        """Call `listener` whenever `topic`'s revision moves (from the polling thread)."""
        self._listeners.setdefault(topic, []).append(listener)

    def poll_once(self) -> list[str]:
        """Read every counter once; fire listeners of moved topics; return those topics.

        Polls are serialised: a caller that finds a change already seen by a concurrent poll
        (the poller thread) returns only after that poll's listeners have applied it."""
        with self._polling:
            with self._factory() as session:
                current = {t: r for t, r in session.execute(
                    select(StateRevision.topic, StateRevision.revision))}
            moved = [t for t, rev in current.items() if self._seen.get(t) != rev]
            self._seen = current
            for topic in moved:
                for listener in self._listeners.get(topic, []):
                    listener()
            return moved

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.poll_once()
            except Exception as exc:  # the DB may be briefly unreachable: retry next tick
                log.warning("state revision poll failed: %s", exc.__class__.__name__)

    def start(self) -> None:
        """Start polling in a daemon thread (listeners run there)."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="steward-revisions",
                                            daemon=True)
            self._thread.start()

    async def stop(self) -> None:
        """Stop polling and wait for an in-flight poll, so no connection outlives the app."""
        if self._thread is not None:
            self._stop.set()
            await asyncio.to_thread(self._thread.join, 10)
            self._thread = None
