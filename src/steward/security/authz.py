"""Authorization helpers shared by routes and the gateway: hidden 404s, grants, purposes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from steward.errors import NotFound, PermissionDenied
from steward.security.principal import Principal, Role, parse_scope

if TYPE_CHECKING:
    from steward.security.schemas import KeyCreate

PURPOSE_HEADER = "x-steward-purpose"


class HiddenNotFound(NotFound):
    """A denial shown as 404 so the caller cannot learn whether the thing exists; audited."""

    denied = True


def authorize(who: Principal, operation: str, resource: str | None,
              environment: str | None = None, *, kind: str = "model") -> None:
    """Raise unless `who` may do `operation`; callers with no read right get a 404."""
    if who.allows(operation, resource, environment):
        return
    # Models exist in every environment; deployments live in one.
    read, where_read = ("deployments:read", environment) if kind == "deployment" else \
        ("models:read", None)
    if resource is not None and not who.allows(read, resource, where_read):
        raise HiddenNotFound(f"{kind} {resource!r} not found", field=kind)
    where = f" in {environment}" if environment else ""
    raise PermissionDenied(f"this key lacks {operation!r} on {resource or 'this'}{where}")


def check_grant(creator: Principal, spec: KeyCreate) -> None:
    """No escalation: only admins create keys, and never with more than they hold."""
    if creator.role is not Role.admin:
        raise PermissionDenied("only admins may create keys")
    extra_envs = sorted(set(spec.environments) - creator.environments)
    if extra_envs:
        raise PermissionDenied(f"cannot grant environments this key lacks: {extra_envs}")
    if creator.purposes and (not spec.purposes or not set(spec.purposes) <= creator.purposes):
        raise PermissionDenied("cannot grant purposes this key lacks")
    if creator.scopes:
        if not spec.scopes:
            raise PermissionDenied("a scoped key may only create keys with explicit scopes")
        for scope in spec.scopes:
            if not _covers(creator.scopes, scope):
                raise PermissionDenied(f"cannot grant scope {scope!r} this key lacks")
    for limit in ("rate_limit_per_minute", "daily_budget"):
        mine, theirs = getattr(creator, limit), getattr(spec, limit)
        if mine is not None and (theirs is None or theirs > mine):
            raise PermissionDenied(f"cannot grant a {limit} above this key's ({mine})")


def _covers(held: frozenset[str], scope: str) -> bool:
    op, res = parse_scope(scope)
    for h in held:
        hop, hres = parse_scope(h)
        if hop == "*" or (hop == op and (hres is None or hres == res)):
            return True
    return False


def purpose_denial(who: Principal, allowed: frozenset[str], declared: str | None) -> str | None:
    """Why a request's declared purpose is refused (G8), or None when it may proceed."""
    if who.purposes and declared not in who.purposes:
        return f"this key may not be used for purpose {declared!r}"
    if allowed and declared not in allowed:
        if declared is None:
            return f"declare a purpose in the {PURPOSE_HEADER} header"
        return f"purpose {declared!r} is not among this model's allowed purposes"
    return None
