"""Model cards: Model Card Toolkit JSON, Markdown and self-contained HTML."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer

from steward.registry.card import card_html, card_markdown, model_card
from steward.registry.contract import FeatureSpec, OutputSpec, infer_contract
from steward.registry.quality import QualityThresholds, quality_report


@pytest.fixture(scope="module")
def model() -> dict[str, Any]:
    return {"name": "cancer-screen", "description": "Flags <script>alert(1)</script> scans",
            "owner": "ana@example.org", "team": "oncology-ml", "use_case": "Triage biopsies",
            "kpi": "Biopsies avoided per month", "risk_tier": "high",
            "allowed_purposes": ["triage"], "tags": ["medical"],
            "runbook_url": "https://wiki.example.org/runbooks/cancer-screen"}


@pytest.fixture(scope="module")
def version() -> dict[str, Any]:
    df: pd.DataFrame = load_breast_cancer(as_frame=True).frame
    df["sex"] = "female"
    contract = infer_contract(df, exclude=["target"], protected=["sex"])
    contract = contract.model_copy(update={"outputs": [
        OutputSpec(name="probabilities", dtype="float", classes=["malignant", "benign"])]})
    contract.features.append(FeatureSpec(name="patient_id", dtype="string", pii=True))
    quality = quality_report(df, contract, QualityThresholds())
    return {
        "version": 3, "status": "production", "created_at": "2025-03-04T10:20:30+00:00",
        "created_by": "ana", "artifact_format": "skops", "artifact_digest": "sha256:abc",
        "contract": contract.model_dump(mode="json"),
        "lineage": {"data_uri": "s3://bucket/cancer.parquet", "data_fingerprint": "sha256:def",
                    "rows": len(df), "code_ref": "git:1234abc",
                    "hyperparameters": {"C": 1.0}, "metrics": {"roc_auc": 0.9912, "f1": 0.95},
                    "slice_metrics": {"age>60": {"roc_auc": 0.97}}},
        "quality": quality.model_dump(), "bias_assessment": "Equal recall across sexes.",
        "aliases": ["champion"],
    }


def test_card_follows_model_card_toolkit_schema(model: dict[str, Any],
                                                version: dict[str, Any]) -> None:
    card = model_card(model, version)
    json.dumps(card)  # JSON-serialisable
    assert card["schema_version"] == "0.0.2"
    assert set(card) == {"schema_version", "model_details", "model_parameters",
                         "quantitative_analysis", "considerations"}
    details = card["model_details"]
    assert details["name"] == "cancer-screen"
    assert details["owners"][0] == {"name": "ana@example.org", "contact": "ana@example.org"}
    assert details["version"] == {"name": "3", "date": "2025-03-04"}
    assert {"reference": model["runbook_url"]} in details["references"]
    assert "high" in details["regulatory_requirements"]
    params = card["model_parameters"]
    assert params["data"][0]["link"] == "s3://bucket/cancer.parquet"
    assert params["data"][0]["sensitive"]["sensitive_data"] == [
        "sex (protected attribute)", "patient_id (PII)"]
    assert len(params["input_format_map"]) == 32
    assert params["output_format_map"] == [
        {"key": "probabilities", "value": "float; classes: malignant, benign"}]
    assert card["quantitative_analysis"]["performance_metrics"] == [
        {"type": "roc_auc", "value": 0.9912}, {"type": "f1", "value": 0.95},
        {"type": "roc_auc", "value": 0.97, "slice": "age>60"}]
    cons = card["considerations"]
    assert {"description": "Business KPI: Biopsies avoided per month"} in cons["use_cases"]
    names = [r["name"] for r in cons["ethical_considerations"]]
    assert names == ["Risk tier: high", "Uses protected attributes: sex",
                     "Uses personal data (PII): patient_id"]
    assert cons["ethical_considerations"][1]["mitigation_strategy"] == "Equal recall across sexes."
    assert cons["fairness_assessment"] == "Equal recall across sexes."


def test_card_tolerates_minimal_input() -> None:
    card = model_card({"name": "m"}, {"version": 1})
    assert card["model_details"]["version"] == {"name": "1"}
    assert card["quantitative_analysis"]["performance_metrics"] == []
    assert card["model_parameters"]["data"] == []
    assert "# Model card: m (version 1)" in card_markdown(card)
    assert "<h1>Model card: m (version 1)</h1>" in card_html(card)


def test_markdown_has_sections_and_metric_table(model: dict[str, Any],
                                                version: dict[str, Any]) -> None:
    text = card_markdown(model_card(model, version))
    assert text.startswith("# Model card: cancer-screen (version 3)")
    for heading in ("## Model details", "## Quantitative analysis", "## Considerations"):
        assert heading in text
    assert "| Metric | Slice | Value |" in text
    assert "| roc_auc | overall | 0.9912 |" in text
    assert "| roc_auc | age>60 | 0.97 |" in text
    assert "<script>" not in text and "&lt;script>" in text


def test_html_is_self_contained_and_escaped(model: dict[str, Any],
                                            version: dict[str, Any]) -> None:
    page = card_html(model_card(model, version))
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<link" not in page and "src=" not in page
    assert "<td>0.9912</td>" in page and "<td>age&gt;60</td>" in page
