"""The audit trail through the real app and CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from steward.audit import record
from steward.cli.main import app as cli
from steward.client import Client
from steward.db import transaction
from steward.state import build_state
from tests.conftest import Env
from tests.security.helpers import live_server, state_of


def test_changes_and_denials_are_chained_with_request_ids(admin: Client, app: FastAPI,
                                                          http: TestClient) -> None:
    created = http.post("/api/v1/models", json={"name": "m", "owner": "o"},
                        headers={"Authorization": f"Bearer {admin._headers['Authorization'][7:]}",
                                 "x-request-id": "req-42"})
    assert created.status_code == 201 and created.headers["x-request-id"] == "req-42"
    entry = admin.audit_entries(action="model.create")[0]
    assert (entry["actor"], entry["target"], entry["request_id"]) == ("admin", "model:m",
                                                                      "req-42")
    assert entry["after"]["owner"] == "o" and entry["outcome"] == "ok"

    denied = http.get("/api/v1/models", headers={"Authorization": "Bearer stw_000000000000_x"})
    assert denied.status_code == 401
    state_of(app).audit.flush()
    refusal = admin.audit_entries(outcome="denied")[0]
    assert refusal["action"] == "GET /api/v1/models" and refusal["actor"] == "anonymous"
    assert refusal["request_id"] == denied.headers["x-request-id"]
    assert "invalid API key" in refusal["after"]["reason"]
    assert admin.audit_verify()["ok"]


def test_cli_verify_names_the_tampered_row(env: Env, app: FastAPI, tmp_path: Path) -> None:
    runner = CliRunner()
    with live_server(app) as url:
        with Client(url, env.admin_key) as client:
            for name in ("a", "b", "c", "d"):
                client.create_model(name, owner="o")
        creds = {"STEWARD_URL": url, "STEWARD_API_KEY": env.admin_key}
        assert runner.invoke(cli, ["audit", "seal"], env=creds).exit_code == 0
        ok = runner.invoke(cli, ["audit", "verify", "--json"], env=creds)
        assert ok.exit_code == 0, ok.output
        assert json.loads(ok.output)["entries"] == 5  # the init key + four models

        out = tmp_path / "audit.jsonl"
        assert runner.invoke(cli, ["audit", "export", "-o", str(out)], env=creds).exit_code == 0
        assert [json.loads(line)["seq"] for line in out.read_text().splitlines()][:5] == \
            [1, 2, 3, 4, 5]
        assert runner.invoke(cli, ["audit", "verify", "--file", str(out)]).exit_code == 0

        with transaction(state_of(app).factory) as session:
            session.execute(text("UPDATE audit_entries SET actor = 'mallory' WHERE seq = 3"))
        bad = runner.invoke(cli, ["audit", "verify"], env=creds)
        assert bad.exit_code == 1
        assert "BROKEN at entry 3" in bad.output and "modified" in bad.output
        listed = runner.invoke(cli, ["audit", "list", "--json", "--action", "model.create"],
                               env=creds)
        assert {e["target"] for e in json.loads(listed.output)} >= {"model:a", "model:d"}


def test_truncation_after_a_digest_is_detected(admin: Client, app: FastAPI) -> None:
    for name in ("a", "b"):
        admin.create_model(name, owner="o")
    assert admin.audit_seal()["seq"] >= 3
    with transaction(state_of(app).factory) as session:
        head = session.scalar(text("SELECT max(seq) FROM audit_entries WHERE action = "
                                   "'model.create'"))
        session.execute(text("DELETE FROM audit_entries WHERE seq >= :s"), {"s": head})
    verdict = admin.audit_verify()
    assert not verdict["ok"] and "truncated" in verdict["problem"]


def test_concurrent_workers_never_fork_the_chain(env: Env) -> None:
    workers = [build_state(env.settings) for _ in range(3)]
    errors: list[BaseException] = []

    def write(state_index: int) -> None:
        try:
            for i in range(15):
                with transaction(workers[state_index].factory) as session:
                    record(session, "test.write", f"w{state_index}:{i}", actor="t")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        verdict = workers[0].audit.verify()
        assert verdict.ok, verdict.problem
        assert verdict.entries == 1 + 45
    finally:
        for w in workers:
            w.close()
