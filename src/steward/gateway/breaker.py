"""Circuit breaker per (deployment, version): stop calling a failing model, probe it later."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from steward.deployments.policy import Policy

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


@dataclass
class Breaker:
    """Opens after `breaker_failures` consecutive failures or an error rate of at least
    `breaker_error_rate` over the last `breaker_window` calls; after `breaker_cooldown_s` one
    probe call is let through (half-open) and its outcome closes or re-opens the circuit."""

    failures_to_open: int
    error_rate: float
    window: int
    cooldown_s: float
    state: str = CLOSED
    consecutive: int = 0
    opened_at: float = 0.0
    probing: bool = False
    outcomes: deque[bool] = field(default_factory=deque)  # True = failure
    failed_in_window: int = 0

    @classmethod
    def from_policy(cls, policy: Policy) -> Breaker:
        """A closed breaker with the deployment's thresholds."""
        return cls(policy.breaker_failures, policy.breaker_error_rate, policy.breaker_window,
                   policy.breaker_cooldown_s)

    def allow(self) -> bool:
        """Whether a call may go to the model now (claims the probe when half-open)."""
        if self.state == CLOSED:
            return True
        if self.state == OPEN:
            if time.monotonic() - self.opened_at < self.cooldown_s:
                return False
            self.state = HALF_OPEN
            self.probing = False
        if self.probing:  # one probe at a time
            return False
        self.probing = True
        return True

    def record(self, failed: bool) -> None:
        """Account one call's outcome."""
        if self.state == HALF_OPEN:
            self.probing = False
            if failed:
                self._open()
            else:
                self._reset()
            return
        self.outcomes.append(failed)
        self.failed_in_window += failed
        if len(self.outcomes) > self.window:
            self.failed_in_window -= self.outcomes.popleft()
        self.consecutive = self.consecutive + 1 if failed else 0
        if failed and (self.consecutive >= self.failures_to_open or (
                len(self.outcomes) >= self.window
                and self.failed_in_window / len(self.outcomes) >= self.error_rate)):
            self._open()

    def _open(self) -> None:
        self.state, self.opened_at, self.probing = OPEN, time.monotonic(), False

    def _reset(self) -> None:
        self.state, self.consecutive, self.failed_in_window = CLOSED, 0, 0
        self.outcomes.clear()


class Breakers:
    """Breakers by (deployment, version id), re-created when the deployment's policy changes."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, int], tuple[Policy, Breaker]] = {}

    def get(self, deployment: str, version_id: int, policy: Policy) -> Breaker:
        """The breaker for this pair under `policy`."""
        key = (deployment, version_id)
        item = self._items.get(key)
        if item is None or (item[0] is not policy and item[0] != policy):
            item = (policy, Breaker.from_policy(policy))
            self._items[key] = item
        return item[1]
