"""Alembic migrations (script location `steward:migrations`)."""
