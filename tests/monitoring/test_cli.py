"""The `steward monitor` and `steward alerts` commands against the real app."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from steward.cli import monitor as monitor_cli
from steward.cli.main import app
from steward.client import Client
from steward.state import AppState
from tests.monitoring.conftest import flush, upper_half


def test_monitor_and_alerts_commands(
        admin: Client, cancer_dep: str, cancer_features: pd.DataFrame,
        send: Callable[..., list[str]], state: AppState, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    monkeypatch.setattr(monitor_cli, "make_client", lambda url, key: _Unclosed(admin))
    send(cancer_dep, upper_half(cancer_features, ["mean texture"]))
    flush(state)
    runner = CliRunner()
    html = tmp_path / "drift.html"
    out = runner.invoke(app, ["monitor", "drift", cancer_dep, "--window", "1h", "--json",
                              "--html", str(html)])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["window"]["rows"] == 569 and "<svg" in html.read_text()
    for cmd in ("drift", "quality", "performance"):
        shown = runner.invoke(app, ["monitor", cmd, cancer_dep, "--last", "100"])
        assert shown.exit_code == 0, shown.output
        assert cancer_dep in shown.output
    created = runner.invoke(app, ["alerts", "create", "drift", "--deployment", cancer_dep,
                                  "--metric", "drift_share", "--threshold", "0.01", "--json"])
    assert created.exit_code == 0, created.output
    assert "drift" in runner.invoke(app, ["alerts", "rules"]).output
    admin.run_monitoring()
    listed = json.loads(runner.invoke(app, ["alerts", "list", "--json"]).output)
    assert [a["metric"] for a in listed] == ["drift_share"]
    done = runner.invoke(app, ["alerts", "resolve", str(listed[0]["id"])])
    assert done.exit_code == 0 and "resolved" in done.output
    bad = runner.invoke(app, ["monitor", "drift", cancer_dep, "--window", "soon"])
    assert bad.exit_code == 1 and "window" in bad.output


class _Unclosed:
    """The fixture's client as a context manager that leaves it open."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def __enter__(self) -> Client:
        return self.client

    def __exit__(self, *exc: object) -> None:
        pass
