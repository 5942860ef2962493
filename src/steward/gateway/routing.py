"""Sticky canary / A-B assignment: a keyed hash decides, so one key always gets one arm."""

from __future__ import annotations

import hashlib

from steward.deployments.snapshot import DeploymentView, RouteTarget

CHAMPION, CANARY, SHADOW, FALLBACK = "champion", "canary", "shadow", "fallback"
_SCALE = float(2 ** 64)


def bucket(key: str) -> float:
    """Uniform position of `key` in [0, 1): the first 8 bytes of its BLAKE2b digest."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _SCALE


def choose(view: DeploymentView, key: str) -> tuple[RouteTarget, str]:
    """The target and route name for a request whose sticky key is `key`.

    A-B mode uses the same assignment (its challenger arm is logged as route "canary"), so the
    set of route names stays fixed for logs, metrics and monitoring.
    """
    if view.canary is not None and view.canary_share > 0.0 and bucket(key) < view.canary_share:
        return view.canary, CANARY
    return view.champion, CHAMPION


def pinned(view: DeploymentView, version: str) -> tuple[RouteTarget, str] | None:
    """The target named by a `/versions/{v}` path segment (number or `model:version`)."""
    for target, route in ((view.champion, CHAMPION), (view.canary, CANARY)):
        if target is not None and version in (str(target.version), target.label):
            return target, route
    return None
