"""Keys per role and a high-risk promotion through two approvers, all via the CLI (live server)."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import FastAPI
from typer.testing import CliRunner

from steward.cli.main import app as cli
from steward.client import Client
from tests.conftest import Env
from tests.security.helpers import live_server, register_rules


def test_high_risk_promotion_via_cli(env: Env, app: FastAPI, tmp_path: Path, rules_yaml: bytes,
                                     cancer_reference: bytes) -> None:
    runner = CliRunner()
    with live_server(app) as url:
        def run(key: str, *args: str) -> tuple[int, str]:
            result = runner.invoke(cli, list(args), env={"STEWARD_URL": url,
                                                         "STEWARD_API_KEY": key})
            return result.exit_code, result.output

        keys = {}
        for person, role in (("dana", "data_scientist"), ("avery", "approver"),
                             ("casey", "compliance")):
            code, out = run(env.admin_key, "keys", "create", person, "--role", role, "--json")
            assert code == 0, out
            keys[person] = json.loads(out)["key"]
        with Client(url, env.admin_key) as admin:
            register_rules(admin, "credit", rules_yaml, cancer_reference, risk_tier="high",
                           lineage={"metrics": {"auc": 0.95}})

        code, out = run(keys["dana"], "approvals", "request", "credit", "1", "--to",
                        "production", "--threshold", "auc>=0.9", "--reason", "Q3 model",
                        "--json")
        assert code == 0, out
        request = json.loads(out)
        rid = str(request["id"])
        assert request["required_approvals"] == 2 and request["compliance_required"]

        code, out = run(keys["avery"], "approvals", "approve", rid)
        assert code == 1 and "impact_assessment" in out  # blocked until evidence is attached
        code, out = run(keys["dana"], "approvals", "approve", rid)
        assert code == 1 and "403" in out

        doc = tmp_path / "dpia.pdf"
        doc.write_bytes(b"%PDF-1.7 impact assessment for credit scoring")
        code, out = run(keys["dana"], "approvals", "attach", rid, str(doc))
        assert code == 0 and "pass" in out and "FAIL" not in out, out

        code, out = run(keys["avery"], "approvals", "approve", rid, "--reason", "metrics ok",
                        "--json")
        assert code == 0 and json.loads(out)["status"] == "pending"
        code, out = run(keys["avery"], "approvals", "approve", rid)
        assert code == 1 and "already decided" in out  # replay
        code, out = run(keys["casey"], "approvals", "approve", rid, "--json")
        assert code == 0 and json.loads(out)["status"] == "approved"

        code, out = run(keys["casey"], "approvals", "show", rid)
        assert code == 0 and "approved" in out and "casey" in out
        code, out = run(keys["casey"], "approvals", "list", "--json")
        assert [r["status"] for r in json.loads(out)] == ["approved"]
        with Client(url, env.admin_key) as admin:
            assert admin.get_version("credit", 1)["status"] == "production"
        code, out = run(keys["casey"], "audit", "verify")
        assert code == 0 and "intact" in out
