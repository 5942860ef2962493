"""`steward models ...`"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from steward.cli.client import KeyOpt, UrlOpt, make_client
from steward.cli.output import JsonOpt, console, emit, errors_to_exit, table

app = typer.Typer(help="Register and inspect models, versions and aliases.",
                  no_args_is_help=True)


@app.command()
def register(
    name: str = typer.Argument(..., help="Model name (created if new)."),
    artifact: Path = typer.Option(..., exists=True, dir_okay=False, help="Model file."),
    reference: Path = typer.Option(..., exists=True, dir_okay=False,
                                   help="Reference data (CSV or Parquet)."),
    owner: str = typer.Option(None, help="Owner (required for a new model)."),
    team: str = typer.Option("", help="Owning team."),
    description: str = typer.Option("", help="What the model does."),
    use_case: str = typer.Option("", help="Business use case."),
    kpi: str = typer.Option("", help="The KPI the model serves."),
    risk_tier: str = typer.Option("minimal", help="minimal | limited | high."),
    purpose: list[str] = typer.Option([], help="Allowed purpose (repeatable)."),
    runbook: str = typer.Option(None, help="Runbook URL."),
    target: str = typer.Option(None, help="Label column in the reference data to exclude."),
    pii: list[str] = typer.Option([], help="Feature holding personal data (repeatable)."),
    protected: list[str] = typer.Option([], help="Protected attribute (repeatable)."),
    contract: Path = typer.Option(None, exists=True, dir_okay=False, help="Contract YAML."),
    classes: str = typer.Option(None, help="Comma-separated class names."),
    data_uri: str = typer.Option(None, help="Training data URI (lineage)."),
    code_ref: str = typer.Option(None, help="Code commit (lineage)."),
    params: str = typer.Option("{}", help="Hyperparameters as JSON."),
    metrics: str = typer.Option("{}", help="Evaluation metrics as JSON {name: value}."),
    slice_metrics: str = typer.Option("{}", help="Per-slice metrics as JSON."),
    trust_pickle: bool = typer.Option(False, help="Accept a pickle/joblib artifact (unsafe)."),
    quality_override: str = typer.Option(None, help="Reason to bypass the quality gate."),
    bias_assessment: str = typer.Option(None, help="Bias assessment summary."),
    url: str = UrlOpt, api_key: str = KeyOpt, as_json: bool = JsonOpt,
) -> None:
    """Register a new version of NAME from an artifact and reference data."""
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from steward.errors import InvalidInput, NotFound

    with errors_to_exit(), make_client(url, api_key) as client:
        lineage = {"data_uri": data_uri, "code_ref": code_ref,
                   "hyperparameters": _json("params", params), "metrics": _json("metrics", metrics),
                   "slice_metrics": _json("slice-metrics", slice_metrics)}
        try:
            client.get_model(name)
        except NotFound:
            if not owner:
                raise InvalidInput("--owner is required to create a new model",
                                   field="owner") from None
            client.create_model(name, owner=owner, team=team, description=description,
                                use_case=use_case, kpi=kpi, risk_tier=risk_tier,
                                allowed_purposes=purpose, runbook_url=runbook)
        meta: dict[str, Any] = {
            "lineage": lineage, "target": target, "pii": pii, "protected": protected,
            "trust_pickle": trust_pickle, "quality_override": quality_override,
            "bias_assessment": bias_assessment,
            "contract_yaml": contract.read_text() if contract else None,
            "classes": classes.split(",") if classes else None}
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), transient=True,
                      disable=as_json) as progress:
            progress.add_task(f"uploading, validating and profiling {artifact.name}...")
            version = client.register_version(name, artifact, reference, **meta)
        emit(version, as_json=as_json, render=_render_version_summary)


@app.command("list")
def list_(url: str = UrlOpt, api_key: str = KeyOpt, as_json: bool = JsonOpt) -> None:
    """List models."""
    with errors_to_exit(), make_client(url, api_key) as client:
        emit(client.list_models(), as_json=as_json, render=lambda rows: table(
            rows, ["name", "owner", "team", "risk_tier", "latest_version", "aliases"],
            title="models"))


@app.command()
def show(name: str, version: str = typer.Option(None, help="Version number or alias."),
         url: str = UrlOpt, api_key: str = KeyOpt, as_json: bool = JsonOpt) -> None:
    """Show a model, or one version's lineage, contract and profile."""
    with errors_to_exit(), make_client(url, api_key) as client:
        if version is None:
            model = client.get_model(name)
            versions = client.list_versions(name)
            emit({**model, "versions": versions}, as_json=as_json, render=_render_model)
        else:
            emit(client.get_version(name, version), as_json=as_json, render=_render_version)


@app.command()
def card(name: str, version: str = typer.Option("latest", help="Version number or alias."),
         format: str = typer.Option("markdown", help="json | markdown | html"),
         url: str = UrlOpt, api_key: str = KeyOpt) -> None:
    """Print the model card of a version."""
    with errors_to_exit(), make_client(url, api_key) as client:
        result = client.card(name, version, format=format)
        if isinstance(result, str):
            typer.echo(result)
        else:
            emit(result, as_json=True)


@app.command()
def contract(name: str, version: str = typer.Option("latest", help="Version number or alias."),
             url: str = UrlOpt, api_key: str = KeyOpt) -> None:
    """Print a version's input contract as YAML."""
    with errors_to_exit(), make_client(url, api_key) as client:
        typer.echo(client.contract_yaml(name, version))


@app.command()
def alias(name: str, alias: str, version: int, url: str = UrlOpt, api_key: str = KeyOpt,
          as_json: bool = JsonOpt) -> None:
    """Point ALIAS of NAME at VERSION (rollback = point it back)."""
    with errors_to_exit(), make_client(url, api_key) as client:
        result = client.set_alias(name, alias, version)
        emit(result, as_json=as_json, render=lambda v: console.print(
            f"{name}@{alias} -> version {v['version']}"))


@app.command()
def delete(name: str, version: int, url: str = UrlOpt, api_key: str = KeyOpt) -> None:
    """Delete a version nothing uses."""
    with errors_to_exit(), make_client(url, api_key) as client:
        client.delete_version(name, version)
        console.print(f"deleted {name} version {version}")


def _json(option: str, text: str) -> Any:
    from steward.errors import InvalidInput

    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"--{option} is not valid JSON: {exc.msg}", field=option) from None


def _render_version_summary(v: dict[str, Any]) -> None:
    q = v.get("quality") or {}
    n_features = len(v["contract"]["features"])
    console.print(f"registered [bold]{v['model']}[/bold] version {v['version']} "
                  f"({v['artifact_format']}, {v['task']}, {n_features} features,"
                  f" sha256 {v['artifact_digest'][:12]}, cold start {v['cold_start_ms']:.1f} ms,"
                  f" completeness {q.get('completeness', 0):.3f})")


def _render_model(m: dict[str, Any]) -> None:
    console.print(f"[bold]{m['name']}[/bold] — {m['description']}\n"
                  f"owner {m['owner']}  team {m['team']}  risk {m['risk_tier']}  "
                  f"kpi {m['kpi']}\nuse case: {m['use_case']}\naliases: {m['aliases']}")
    table(m["versions"], ["version", "status", "artifact_format", "task", "created_by",
                          "created_at", "aliases"], title="versions")


def _render_version(v: dict[str, Any]) -> None:
    console.print(f"[bold]{v['model']}[/bold] version {v['version']} ({v['status']}) "
                  f"aliases {v['aliases']}")
    console.print(f"artifact {v['artifact_filename']} {v['artifact_format']} "
                  f"sha256:{v['artifact_digest']} ({v['artifact_size']} bytes)")
    console.print_json(data={"lineage": v["lineage"]})
    table([{**f} for f in v["contract"]["features"]],
          ["name", "dtype", "required", "nullable", "min", "max", "pii", "protected"],
          title="contract")
    prof = v["profile"]["features"]
    table([{"feature": k, "missing": p.get("missing_rate"), "mean": p.get("mean"),
            "std": p.get("std"), "min": p.get("min"), "max": p.get("max")}
           for k, p in prof.items()], ["feature", "missing", "mean", "std", "min", "max"],
          title="reference profile")
