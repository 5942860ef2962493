"""Alembic environment: runs against the connection handed in by `steward.migrate`."""

from __future__ import annotations

from alembic import context

import steward.tables  # noqa: F401  (registers every table on the metadata)
from steward.db import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `steward db upgrade`")
context.configure(connection=connection, target_metadata=Base.metadata,
                  render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
with context.begin_transaction():
    context.run_migrations()
