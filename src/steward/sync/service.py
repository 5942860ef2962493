"""Bump and poll revision counters."""

from __future__ import annotations

import asyncio
import logging
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
        self._task: asyncio.Task[None] | None = None

    def on_change(self, topic: str, listener: Callable[[], None]) -> None:
        """Call `listener` (from the polling thread; keep it cheap) whenever `topic`'s revision moves."""
        self._listeners.setdefault(topic, []).append(listener)

    def poll_once(self) -> list[str]:
        """Read every counter once; fire listeners of moved topics; return those topics."""
        with self._factory() as session:
            current = {t: r for t, r in session.execute(
                select(StateRevision.topic, StateRevision.revision))}
        moved = [t for t, rev in current.items() if self._seen.get(t) != rev]
        self._seen = current
        for topic in moved:
            for listener in self._listeners.get(topic, []):
                listener()
        return moved

    async def run(self) -> None:
        """Poll forever; database hiccups are logged and retried, never fatal."""
        while True:
            try:
                await asyncio.to_thread(self.poll_once)
            except Exception as exc:  # the DB may be briefly unreachable
                log.warning("state revision poll failed: %s", exc.__class__.__name__)
            await asyncio.sleep(self._interval)

    def start(self) -> None:
        """Start polling in the running event loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        """Stop polling."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
