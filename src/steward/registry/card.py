"""Model cards in the Model Card Toolkit JSON schema (v0.0.2), rendered as Markdown or HTML."""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import datetime
from typing import Any

SCHEMA_VERSION = "0.0.2"
_HIGH_RISK = {"high", "critical", "unacceptable"}


def _feature_summary(f: Mapping[str, Any]) -> str:
    parts = [str(f.get("dtype", "?")), "required" if f.get("required", True) else "optional"]
    if f.get("nullable"):
        parts.append("nullable")
    if f.get("min") is not None or f.get("max") is not None:
        lo, hi = f.get("min"), f.get("max")
        parts.append(f"range [{'-inf' if lo is None else f'{lo:g}'}, "
                     f"{'inf' if hi is None else f'{hi:g}'}]")
    if f.get("categories") is not None:
        parts.append("one of: " + ", ".join(map(str, f["categories"])))
    parts += [flag for flag in ("pii", "protected") if f.get(flag)]
    if f.get("description"):
        parts.append(str(f["description"]))
    return "; ".join(parts)


def _date(value: Any) -> str | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value)).date().isoformat()
    except ValueError:
        return str(value)


def _metrics(lineage: Mapping[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"type": str(k), "value": v}
                                 for k, v in (lineage.get("metrics") or {}).items()]
    for slice_name, metrics in (lineage.get("slice_metrics") or {}).items():
        out += [{"type": str(k), "value": v, "slice": str(slice_name)}
                for k, v in (metrics or {}).items()]
    return out


def _ethics(model: Mapping[str, Any], features: list[Mapping[str, Any]],
            bias: str | None) -> list[dict[str, str]]:
    purposes = ", ".join(map(str, model.get("allowed_purposes") or [])) or "none recorded"
    tier = model.get("risk_tier")
    risks: list[dict[str, str]] = []
    if tier:
        review = ("human review of decisions and periodic re-validation"
                  if str(tier).lower() in _HIGH_RISK else "standard monitoring")
        risks.append({"name": f"Risk tier: {tier}",
                      "mitigation_strategy": f"Use limited to the allowed purposes "
                                             f"({purposes}); {review}."})
    protected = [str(f["name"]) for f in features if f.get("protected")]
    if protected:
        risks.append({"name": "Uses protected attributes: " + ", ".join(protected),
                      "mitigation_strategy": bias or "No bias assessment recorded."})
    pii = [str(f["name"]) for f in features if f.get("pii")]
    if pii:
        risks.append({"name": "Uses personal data (PII): " + ", ".join(pii),
                      "mitigation_strategy": f"Process only for the allowed purposes "
                                             f"({purposes}); values are not listed in "
                                             f"the contract or this card."})
    return risks


def model_card(model: Mapping[str, Any], version: Mapping[str, Any]) -> dict[str, Any]:
    """Build a Model Card Toolkit (schema 0.0.2) JSON card for one model version."""
    contract: Mapping[str, Any] = version.get("contract") or {}
    features: list[Mapping[str, Any]] = list(contract.get("features") or [])
    outputs: list[Mapping[str, Any]] = list(contract.get("outputs") or [])
    lineage: Mapping[str, Any] = version.get("lineage") or {}
    quality: Mapping[str, Any] | None = version.get("quality")
    bias: str | None = version.get("bias_assessment")
    name = str(model.get("name", "unnamed model"))

    owners = [{"name": str(o), "contact": str(o)} for o in (model.get("owner"),) if o]
    if model.get("team"):
        owners.append({"name": str(model["team"]), "contact": ""})
    docs = [str(model.get("description") or "")]
    if version.get("status"):
        docs.append(f"Status: {version['status']}.")
    if version.get("aliases"):
        docs.append("Aliases: " + ", ".join(map(str, version["aliases"])) + ".")
    if model.get("tags"):
        docs.append("Tags: " + ", ".join(map(str, model["tags"])) + ".")
    if version.get("created_by"):
        docs.append(f"Registered by {version['created_by']}.")
    if lineage.get("code_ref"):
        docs.append(f"Code: {lineage['code_ref']}.")
    details: dict[str, Any] = {
        "name": name,
        "overview": str(model.get("description") or ""),
        "documentation": " ".join(d for d in docs if d),
        "owners": owners,
        "version": {"name": str(version.get("version", "")),
                    **({"date": d} if (d := _date(version.get("created_at"))) else {})},
        "references": [{"reference": str(model["runbook_url"])}]
        if model.get("runbook_url") else [],
    }
    if model.get("risk_tier") or model.get("allowed_purposes"):
        purposes = ", ".join(map(str, model.get("allowed_purposes") or [])) or "none recorded"
        details["regulatory_requirements"] = (
            f"Risk tier: {model.get('risk_tier') or 'unclassified'}. "
            f"Allowed purposes: {purposes}.")

    arch = [f"{version.get('artifact_format') or 'unknown'} artifact"]
    if version.get("artifact_digest"):
        arch.append(f"digest {version['artifact_digest']}")
    if lineage.get("hyperparameters"):
        arch.append("hyperparameters: " + ", ".join(
            f"{k}={v}" for k, v in lineage["hyperparameters"].items()))
    sensitive = [f"{f['name']} ({'PII' if f.get('pii') else 'protected attribute'})"
                 for f in features if f.get("pii") or f.get("protected")]
    data_desc = [f"Reference (training) data, {lineage['rows']} rows"
                 if lineage.get("rows") is not None else "Reference (training) data"]
    if lineage.get("data_fingerprint"):
        data_desc.append(f"fingerprint {lineage['data_fingerprint']}")
    if quality:
        data_desc.append("quality gate " + ("passed" if quality.get("passed") else "FAILED"))
    dataset: dict[str, Any] = {"name": "train", "description": "; ".join(data_desc) + ".",
                               "sensitive": {"sensitive_data": sensitive}}
    if lineage.get("data_uri"):
        dataset["link"] = str(lineage["data_uri"])
    parameters = {
        "model_architecture": "; ".join(arch),
        "data": [dataset] if lineage or quality else [],
        "input_format": f"JSON records with {len(features)} features: "
                        + ", ".join(f"{f['name']} ({f.get('dtype')})" for f in features),
        "input_format_map": [{"key": str(f["name"]), "value": _feature_summary(f)}
                             for f in features],
        "output_format": f"{contract.get('task', 'classification')} outputs: "
                         + (", ".join(str(o["name"]) for o in outputs) or "not declared"),
        "output_format_map": [{"key": str(o["name"]), "value": str(o.get("dtype")) + (
            f"; classes: {', '.join(map(str, o['classes']))}" if o.get("classes") else "")}
            for o in outputs],
    }

    limitations = [{"description": "Valid only for inputs inside the contract's ranges and "
                                   "categories; other inputs are rejected or out of scope."}]
    for failure in (quality or {}).get("failures") or []:
        limitations.append({"description": f"Reference data quality: {failure}."})
    tradeoffs = []
    if any(f.get("protected") for f in features):
        tradeoffs.append({"description": "Protected attributes are model inputs: they may "
                                         "improve accuracy at the cost of disparate treatment."})
    use_cases = [{"description": str(model["use_case"])}] if model.get("use_case") else []
    if model.get("kpi"):
        use_cases.append({"description": f"Business KPI: {model['kpi']}"})
    use_cases += [{"description": f"Allowed purpose: {p}"}
                  for p in model.get("allowed_purposes") or []]
    fairness = bias or ("No bias assessment recorded." if any(
        f.get("protected") for f in features) else "No protected attributes are inputs.")
    return {
        "schema_version": SCHEMA_VERSION,
        "model_details": details,
        "model_parameters": parameters,
        "quantitative_analysis": {"performance_metrics": _metrics(lineage)},
        "considerations": {
            "users": [{"description": f"Team {model['team']}"}] if model.get("team") else [],
            "use_cases": use_cases,
            "limitations": limitations,
            "tradeoffs": tradeoffs,
            "ethical_considerations": _ethics(model, features, bias),
            "fairness_assessment": fairness,
        },
    }


def _fmt(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _sections(card: Mapping[str, Any]) -> list[tuple[str, list[tuple[str, Any]]]]:
    """The card as (heading, [(label, text | rows)]) pairs shared by both renderers."""
    d = card.get("model_details") or {}
    p = card.get("model_parameters") or {}
    q = card.get("quantitative_analysis") or {}
    c = card.get("considerations") or {}
    version = d.get("version") or {}
    data_rows = [[ds.get("name", ""), ds.get("description", ""), ds.get("link", ""),
                  ", ".join((ds.get("sensitive") or {}).get("sensitive_data") or [])]
                 for ds in p.get("data") or []]
    return [
        ("Model details", [
            ("Overview", d.get("overview")), ("Documentation", d.get("documentation")),
            ("Version", " ".join(str(v) for v in (version.get("name"), version.get("date"))
                                 if v)),
            ("Owners", ", ".join(o.get("name", "") for o in d.get("owners") or [])),
            ("References", ", ".join(r.get("reference", "") for r in d.get("references") or [])),
            ("Regulatory requirements", d.get("regulatory_requirements"))]),
        ("Model parameters", [
            ("Architecture", p.get("model_architecture")),
            ("Data", (["Dataset", "Description", "Link", "Sensitive data"], data_rows)),
            ("Input format", p.get("input_format")),
            ("Inputs", (["Feature", "Specification"],
                        [[m.get("key"), m.get("value")] for m in p.get("input_format_map") or []])),
            ("Output format", p.get("output_format")),
            ("Outputs", (["Output", "Specification"],
                         [[m.get("key"), m.get("value")]
                          for m in p.get("output_format_map") or []]))]),
        ("Quantitative analysis", [
            ("Performance metrics", (["Metric", "Slice", "Value"],
                                     [[m.get("type"), m.get("slice", "overall"), _fmt(
                                         m.get("value"))]
                                      for m in q.get("performance_metrics") or []]))]),
        ("Considerations", [
            (label, [str(i.get("description", "")) for i in c.get(key) or []])
            for label, key in (("Users", "users"), ("Use cases", "use_cases"),
                               ("Limitations", "limitations"), ("Tradeoffs", "tradeoffs"))
        ] + [
            ("Ethical considerations", (["Risk", "Mitigation"], [
                [r.get("name"), r.get("mitigation_strategy")]
                for r in c.get("ethical_considerations") or []])),
            ("Fairness assessment", c.get("fairness_assessment"))]),
    ]


def _md(value: Any) -> str:
    """Markdown-safe text: no raw HTML, no table-breaking pipes or newlines."""
    text = str(value).replace("&", "&amp;").replace("<", "&lt;")
    return text.replace("|", "\\|").replace("\n", " ")


def card_markdown(card: Mapping[str, Any]) -> str:
    """Render a model card as a readable Markdown page."""
    details = card.get("model_details") or {}
    version = (details.get("version") or {}).get("name", "")
    lines = [f"# Model card: {_md(details.get('name', ''))} (version {_md(version)})", ""]
    for heading, items in _sections(card):
        lines += [f"## {heading}", ""]
        for label, body in items:
            if not body:
                continue
            if isinstance(body, tuple):
                header, rows = body
                if not rows:
                    continue
                lines += [f"### {label}", "", "| " + " | ".join(header) + " |",
                          "|" + "---|" * len(header)]
                lines += ["| " + " | ".join(_md(v) for v in row) + " |" for row in rows]
            elif isinstance(body, list):
                lines += [f"### {label}", ""] + [f"- {_md(v)}" for v in body]
            else:
                lines += [f"**{label}:** {_md(body)}"]
            lines.append("")
    return "\n".join(lines)


_CSS = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;"
        "padding:0 1rem;color:#222}table{border-collapse:collapse;margin:.5rem 0}"
        "th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;vertical-align:top}"
        "th{background:#f3f3f3}h2{border-bottom:1px solid #ddd}")


def card_html(card: Mapping[str, Any]) -> str:
    """Render a model card as a self-contained HTML page (all text escaped)."""
    e = html.escape
    details = card.get("model_details") or {}
    title = (f"Model card: {details.get('name', '')} "
             f"(version {(details.get('version') or {}).get('name', '')})")
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{e(title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{e(title)}</h1>"]
    for heading, items in _sections(card):
        parts.append(f"<h2>{e(heading)}</h2>")
        for label, body in items:
            if not body:
                continue
            if isinstance(body, tuple):
                header, rows = body
                if not rows:
                    continue
                parts.append(f"<h3>{e(label)}</h3><table><thead><tr>"
                             + "".join(f"<th>{e(h)}</th>" for h in header)
                             + "</tr></thead><tbody>")
                parts += ["<tr>" + "".join(f"<td>{e(str(v))}</td>" for v in row) + "</tr>"
                          for row in rows]
                parts.append("</tbody></table>")
            elif isinstance(body, list):
                parts.append(f"<h3>{e(label)}</h3><ul>"
                             + "".join(f"<li>{e(str(v))}</li>" for v in body) + "</ul>")
            else:
                parts.append(f"<p><strong>{e(label)}:</strong> {e(str(body))}</p>")
    parts.append("</body></html>")
    return "\n".join(parts)
