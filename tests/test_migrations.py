"""Migrations: one head, the models match the schema, and upgrades keep existing data."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

import steward.tables  # noqa: F401  (registers every table)
from steward import migrate
from steward.db import Base, make_engine
from tests.conftest import BACKENDS, PgDatabases


def test_single_head() -> None:
    heads = ScriptDirectory.from_config(migrate.alembic_config()).get_heads()
    assert len(heads) == 1, f"migration branches: {heads}"


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path,
              pg: PgDatabases | None) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db.sqlite'}"
    if pg is None:
        pytest.skip("PostgreSQL not reachable")
    name = f"steward_m_{uuid.uuid4().hex[:10]}"
    with pg.admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    pg.created.append(name)
    return pg.url(name)


def test_models_match_migrated_schema(empty_url: str) -> None:
    engine = make_engine(empty_url)
    try:
        migrate.upgrade(engine)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == [], f"tables and migrations disagree: {diff}"
    finally:
        engine.dispose()


def test_upgrade_keeps_existing_data(empty_url: str) -> None:
    engine = make_engine(empty_url)
    try:
        migrate.upgrade(engine, "0001")
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO models (name, description, owner, team, use_case, kpi, risk_tier, "
                "allowed_purposes, tags, allow_download, created_by, created_at) VALUES "
                "('kept', 'd', 'o', 't', 'u', 'k', 'minimal', '[]', '[]', true, 'me', "
                "CURRENT_TIMESTAMP)"))
        migrate.upgrade(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT name FROM models")).scalars().all() == ["kept"]
        heads = ScriptDirectory.from_config(migrate.alembic_config()).get_heads()
        assert migrate.current(engine) == heads[0]
    finally:
        engine.dispose()


def test_db_upgrade_command(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from steward.cli.main import app

    env = {**os.environ, "STEWARD_HOME": str(tmp_path)}
    result = CliRunner().invoke(app, ["db", "upgrade"], env=env)
    assert result.exit_code == 0, result.output
    assert "empty ->" in result.output
