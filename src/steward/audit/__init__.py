"""Tamper-evident audit trail (G4): hash-chained entries, signed digests, request context."""

from steward.audit.context import RequestIdMiddleware, current_request_id
from steward.audit.service import AuditLog, record

__all__ = ["AuditLog", "RequestIdMiddleware", "current_request_id", "record"]
