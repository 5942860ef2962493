"""Imports every slice's tables so the metadata is complete (for Alembic and tests)."""

from steward.deployments import tables as deployments_tables
from steward.predictions import tables as predictions_tables
from steward.registry import tables as registry_tables
from steward.security import tables as security_tables
from steward.sync import tables as sync_tables

__all__ = ["deployments_tables", "predictions_tables", "registry_tables", "security_tables",
           "sync_tables"]
