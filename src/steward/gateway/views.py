"""The gateway's snapshot of deployments, swapped atomically when the revision poller says so.

A request reads `holder.snapshot` once and keeps that object to the end, so a change made
mid-request never mixes two routings; the swap is a single reference assignment.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from steward.deployments.snapshot import DeploymentView, RouteTarget, load_views
from steward.gateway.validation import CompiledContract, compile_contract

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    """Deployments by name plus each served version's compiled contract."""

    views: dict[str, DeploymentView] = field(default_factory=dict)
    contracts: dict[int, CompiledContract] = field(default_factory=dict)
    loaded: bool = False


def targets_of(view: DeploymentView) -> Iterator[RouteTarget]:
    """Every version a deployment may call (champion, canary, shadows, fallback)."""
    yield view.champion
    if view.canary is not None:
        yield view.canary
    yield from view.shadows
    if view.fallback is not None:
        yield view.fallback


class ViewHolder:
    """Holds the current snapshot; `reload` builds a new one off the hot path."""

    def __init__(self, factory: sessionmaker[Session],
                 on_swap: Callable[[Snapshot], None] | None = None) -> None:
        self._factory = factory
        self._on_swap = on_swap
        self._lock = threading.Lock()
        self.snapshot = Snapshot()

    def reload(self) -> None:
        """Read every deployment (a few queries) and swap the snapshot in one assignment."""
        with self._lock:  # poller thread and a test's poll_once may race; serialise builds
            with self._factory() as session:
                views = load_views(session)
            old = self.snapshot.contracts
            contracts: dict[int, CompiledContract] = {}
            for view in views.values():
                for t in targets_of(view):
                    if t.version_id not in contracts:
                        contracts[t.version_id] = old.get(t.version_id) or compile_contract(
                            t.contract, t.profile)
            self.snapshot = Snapshot(views, contracts, loaded=True)
        log.debug("deployment snapshot: %d deployments", len(views))
        if self._on_swap is not None:
            self._on_swap(self.snapshot)

    def listener(self) -> None:
        """Revision listener: runs in the polling thread, so the rebuild stays off the loop."""
        try:
            self.reload()
        except Exception as exc:  # keep serving the previous snapshot
            log.warning("deployment snapshot reload failed: %s", exc.__class__.__name__)
