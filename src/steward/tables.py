"""Imports every slice's tables so the metadata is complete (for Alembic and tests)."""

from steward.approvals import tables as approvals_tables
from steward.audit import tables as audit_tables
from steward.deployments import tables as deployments_tables
from steward.monitoring import tables as monitoring_tables
from steward.predictions import tables as predictions_tables
from steward.registry import tables as registry_tables
from steward.security import tables as security_tables
from steward.sync import tables as sync_tables
from steward.webhooks import tables as webhooks_tables

__all__ = ["approvals_tables", "audit_tables", "deployments_tables", "monitoring_tables",
           "predictions_tables",
           "registry_tables", "security_tables", "sync_tables", "webhooks_tables"]
