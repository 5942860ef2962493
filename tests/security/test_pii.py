"""PII flagged in a contract never reaches the data folder, the database, logs or errors."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pandas as pd
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from steward.client import Client
from steward.errors import InvalidInput
from tests.conftest import Env

SECRET = "alice.secret@example.com"
RULES = b"""
kind: rules
task: classification
classes: [malignant, benign]
rules:
  - when: [{feature: "worst radius", op: gt, value: 16.8}]
    output: malignant
default: benign
"""


def _reference(cancer: pd.DataFrame) -> bytes:
    frame = cancer[["worst radius", "mean texture"]].copy()
    frame["patient_email"] = [f"patient{i}@example.org" for i in range(len(frame))]
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def test_pii_value_is_nowhere_in_plaintext(admin: Client, app: FastAPI, env: Env,
                                          cancer: pd.DataFrame,
                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    admin.create_model("pii", owner="o")
    version = admin.register_version("pii", RULES, _reference(cancer),
                                     artifact_filename="rules.yaml", pii=["patient_email"])
    email = next(f for f in version["contract"]["features"] if f["name"] == "patient_email")
    assert email["pii"] is True and not email.get("categories")
    admin.create_deployment("pii-dep", "pii", 1)
    state = app.state.steward
    state.revisions.poll_once()

    row = {"worst radius": 20.0, "mean texture": 10.0, "patient_email": SECRET}
    out = admin.predict("pii-dep", [row])
    assert out["predictions"][0]["label"] == "malignant"
    with pytest.raises(InvalidInput) as bad:  # a refused request naming the PII field
        admin.predict("pii-dep", [{"patient_email": SECRET, "worst radius": "not a number"}])
    assert SECRET not in bad.value.message

    state.flush_log()
    state.audit.flush()
    logged = admin.get_prediction(out["id"])[0]
    token = logged["inputs"]["patient_email"][0]
    assert token.startswith("pii:") and token != SECRET
    again = admin.predict("pii-dep", [row])  # the keyed hash is stable, so joins still work
    state.flush_log()
    assert admin.get_prediction(again["id"])[0]["inputs"]["patient_email"][0] == token

    needle = SECRET.encode()
    leaks = [p for p in Path(env.settings.home).rglob("*")
             if p.is_file() and needle in p.read_bytes()]
    assert leaks == []
    if env.backend == "postgresql":
        with state.engine.connect() as conn:
            for table in ("predictions", "audit_entries", "feedback"):
                dump = conn.execute(text(f"SELECT CAST(t AS text) FROM {table} t")).scalars()
                assert not any(SECRET in line for line in dump), table
    assert SECRET not in caplog.text
