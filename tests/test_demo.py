"""The README's main job: `steward demo --once` trains, registers, promotes, deploys, serves."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.gateway.conftest import free_port

pytestmark = pytest.mark.slow


def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    env = {**os.environ, "STEWARD_HOME": str(tmp_path / "home"), "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-m", "steward.cli.main", "demo", "--once",
                           "--port", str(free_port())], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "promoted versions 1-3 to production through approvals" in out
    assert "features drifted" in out and "worst radius" in out
    assert "a bad request was refused" in out and "mean texture" in out
    assert "'champion'" in out and "'canary'" in out
