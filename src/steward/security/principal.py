"""Principals, roles and scope matching.

A scope is `operation[:resource]`: `models:read`, `predict:churn`, `deploy:*`. A key holds the
scopes of its role, optionally narrowed by explicit scopes, environments and purposes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    """Built-in roles."""

    viewer = "viewer"
    data_scientist = "data_scientist"
    approver = "approver"
    compliance = "compliance"
    operator = "operator"
    admin = "admin"
    service = "service"


ENVIRONMENTS = ("dev", "staging", "production")

OPERATIONS = (
    "models:read", "models:write", "deployments:read", "deploy", "approve", "predict",
    "feedback", "artifacts:download", "audit:read", "keys:admin", "monitor:read",
    "monitor:write",
)

ROLE_OPERATIONS: dict[Role, frozenset[str]] = {
    Role.viewer: frozenset({"models:read", "deployments:read", "monitor:read"}),
    Role.data_scientist: frozenset({"models:read", "models:write", "deployments:read", "deploy",
                                    "monitor:read", "artifacts:download"}),
    Role.approver: frozenset({"models:read", "deployments:read", "approve", "monitor:read"}),
    Role.compliance: frozenset({"models:read", "deployments:read", "approve", "audit:read",
                                "monitor:read"}),
    Role.operator: frozenset({"models:read", "deployments:read", "deploy", "monitor:read",
                              "monitor:write"}),
    Role.admin: frozenset(OPERATIONS),
    Role.service: frozenset({"predict", "feedback"}),
}


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. Holds no secret, so it is safe to log."""

    key_id: str
    name: str
    role: Role
    scopes: frozenset[str] = field(default_factory=frozenset)  # explicit narrowing; empty = role
    environments: frozenset[str] = field(default_factory=lambda: frozenset(ENVIRONMENTS))
    purposes: frozenset[str] = field(default_factory=frozenset)  # empty = any purpose
    rate_limit_per_minute: int | None = None  # G7; None = unlimited
    daily_budget: int | None = None

    def allows(self, operation: str, resource: str | None = None,
               environment: str | None = None) -> bool:
        """True if this principal may perform `operation` on `resource` in `environment`."""
        if operation not in ROLE_OPERATIONS[self.role]:
            return False
        if environment is not None and environment not in self.environments:
            return False
        if not self.scopes:
            return True
        return any(_scope_matches(s, operation, resource) for s in self.scopes)


def parse_scope(scope: str) -> tuple[str, str | None]:
    """Split a scope into (operation, resource); resource None means every resource."""
    if scope == "*" or scope in OPERATIONS:
        return scope, None
    op, _, res = scope.rpartition(":")
    return op, (None if res == "*" else res)


def _scope_matches(scope: str, operation: str, resource: str | None) -> bool:
    op, res = parse_scope(scope)
    if op == "*":
        return True
    return op == operation and (res is None or resource is None or res == resource)


def validate_scope(scope: str) -> str | None:
    """Return an error message if `scope` names no known operation."""
    op, _ = parse_scope(scope)
    if op == "*" or op in OPERATIONS:
        return None
    return f"unknown operation in scope {scope!r}"
