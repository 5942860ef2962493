"""`steward deploy ...` and `steward predict` / `steward feedback`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from steward.cli.client import KeyOpt, UrlOpt, make_client
from steward.cli.output import JsonOpt, console, emit, errors_to_exit, table

app = typer.Typer(help="Deploy versions to endpoints: canary, shadow, A/B, rollback.",
                  no_args_is_help=True)


def _ref(version: str, model: str | None = None) -> dict[str, Any]:
    return {"model": model, "version": int(version) if version.isdigit() else version}


def _show(d: dict[str, Any]) -> None:
    canary = f"{d['canary']} ({d['canary_share']:.0%})" if d["canary"] else "-"
    console.print(f"[bold]{d['name']}[/bold] [{d['environment']}] mode {d['mode']}\n"
                  f"  champion {d['champion']}  canary {canary}  "
                  f"shadows {', '.join(d['shadows']) or '-'}  fallback {d['fallback'] or '-'}")


@app.command()
def create(name: str, model: str = typer.Option(..., help="Model name."),
           version: str = typer.Option("latest", help="Version number or alias."),
           env: str = typer.Option("dev", help="dev | staging | production"),
           fallback: str = typer.Option(None, help="Fallback version (e.g. a rules model), "
                                                   "as VERSION or MODEL:VERSION."),
           routing_key: str = typer.Option(None, help="Header or input field for stickiness."),
           policy: str = typer.Option("{}", help="Serving policy as JSON."),
           url: str = UrlOpt, api_key: str = KeyOpt, as_json: bool = JsonOpt) -> None:
    """Create an endpoint NAME serving MODEL@VERSION."""
    spec: dict[str, Any] = {"routing_key": routing_key, "policy": json.loads(policy)}
    if fallback:
        m, _, v = fallback.rpartition(":")
        spec["fallback"] = _ref(v, m or None)
    with errors_to_exit(), make_client(url, api_key) as client:
        emit(client.create_deployment(name, model, version, environment=env, **spec),
             as_json=as_json, render=_show)


@app.command("list")
def list_(url: str = UrlOpt, api_key: str = KeyOpt, as_json: bool = JsonOpt) -> None:
    """List deployments."""
    with errors_to_exit(), make_client(url, api_key) as client:
        emit(client.list_deployments(), as_json=as_json, render=lambda rows: table(
            rows, ["name", "environment", "mode", "champion", "canary", "canary_share",
                   "shadows", "fallback"], title="deployments"))


@app.command()
def show(name: str, url: str = UrlOpt, api_key: str = KeyOpt, as_json: bool = JsonOpt) -> None:
    """Show a deployment's routing."""
    with errors_to_exit(), make_client(url, api_key) as client:
        emit(client.get_deployment(name), as_json=as_json, render=_show)


@app.command()
def canary(name: str, version: str = typer.Option(..., help="Canary version or alias."),
           share: float = typer.Option(0.1, min=0.0, max=1.0, help="Traffic share."),
           model: str = typer.Option(None, help="Model of the canary (default: champion's)."),
           ab: bool = typer.Option(False, "--ab", help="Run as an A/B experiment."),
           force: bool = typer.Option(False, help="Accept a breaking contract change."),
           reason: str = typer.Option(None, help="Why (required with --force)."),
           url: str = UrlOpt, api_key: str = KeyOpt, as_json: bool = JsonOpt) -> None:
    """Send SHARE of traffic (sticky by routing key) to a canary version."""
    change = {"canary": _ref(version, model), "canary_share": share,
              "mode": "ab" if ab else "canary", "force": force, "reason": reason}
    with errors_to_exit(), make_client(url, api_key) as client:
        emit(client.update_deployment(name, **change), as_json=as_json, render=_show)


@app.command()
def promote(name: str, version: str = typer.Option(None, help="New champion (default: the "
                                                             "current canary)."),
            force: bool = typer.Option(False, help="Accept a breaking contract change."),
            reason: str = typer.Option(None, help="Why (required with --force)."),
            url: str = UrlOpt, api_key: str = KeyOpt, as_json: bool = JsonOpt) -> None:
    """Make a version (by default the canary) the champion."""
    with errors_to_exit(), make_client(url, api_key) as client:
        if version is None:
            current = client.get_deployment(name)
            if not current["canary"]:
                from steward.errors import InvalidInput

                raise InvalidInput("no canary to promote; pass --version", field="version")
            model, _, version = current["canary"].rpartition(":")
            ref = _ref(version, model)
        else:
            ref = _ref(version)
        emit(client.update_deployment(name, champion=ref, force=force, reason=reason),
             as_json=as_json, render=_show)


@app.command()
def shadow(name: str, version: list[str] = typer.Option([], help="Shadow version (repeatable;"
                                                               " none clears)."),
           url: str = UrlOpt, api_key: str = KeyOpt, as_json: bool = JsonOpt) -> None:
    """Mirror requests to shadow versions (their answers are logged, never returned)."""
    with errors_to_exit(), make_client(url, api_key) as client:
        emit(client.update_deployment(name, shadows=[_ref(v) for v in version]),
             as_json=as_json, render=_show)


@app.command()
def rollback(name: str, reason: str = typer.Option(None, help="Why."), url: str = UrlOpt,
             api_key: str = KeyOpt, as_json: bool = JsonOpt) -> None:
    """Undo the latest routing change of NAME (one command, effective within a second)."""
    with errors_to_exit(), make_client(url, api_key) as client:
        emit(client.rollback(name, reason), as_json=as_json, render=_show)


@app.command()
def history(name: str, url: str = UrlOpt, api_key: str = KeyOpt, as_json: bool = JsonOpt) -> None:
    """Routing history of NAME."""
    with errors_to_exit(), make_client(url, api_key) as client:
        emit(client.deployment_events(name), as_json=as_json, render=lambda rows: table(
            rows, ["at", "action", "actor", "forced", "reason", "after"]))


@app.command("shadow-report")
def shadow_report(name: str, url: str = UrlOpt, api_key: str = KeyOpt,
                  as_json: bool = JsonOpt) -> None:
    """How each shadow version agrees with the answers served."""
    with errors_to_exit(), make_client(url, api_key) as client:
        emit(client.shadow_report(name), as_json=as_json, render=lambda r: table(
            r["shadows"], ["shadow", "compared", "errors", "agreement_rate", "mean_abs_diff",
                           "shadow_latency_ms", "served_latency_ms"], title="shadow report"))


@app.command("ab-report")
def ab_report(name: str, alpha: float = typer.Option(0.05, help="Significance level."),
              url: str = UrlOpt, api_key: str = KeyOpt, as_json: bool = JsonOpt) -> None:
    """Per-arm outcomes and the significance test of an A/B experiment."""
    def render(r: dict[str, Any]) -> None:
        table([{"arm": k, **v} for k, v in r["arms"].items()],
              ["arm", "version", "requests", "with_feedback", "mean_outcome"], title="arms")
        t = r["test"]
        console.print(f"{t['test']}: effect {t['effect']}, p = {t['p_value']}, "
                      f"significant at {r['alpha']}: {t['significant']}, "
                      f"needed per arm: {t['required_per_arm']}")

    with errors_to_exit(), make_client(url, api_key) as client:
        emit(client.ab_report(name, alpha), as_json=as_json, render=render)


def predict(deployment: str,
            data: str = typer.Option(None, "--data", help="JSON: a record, or a list of "
                                                           "records/rows."),
            file: Path = typer.Option(None, exists=True, dir_okay=False,
                                      help="CSV or Parquet rows to score."),
            url: str = UrlOpt, api_key: str = KeyOpt, as_json: bool = JsonOpt) -> None:
    """Score rows through the gateway."""
    from steward.errors import InvalidInput

    with errors_to_exit(), make_client(url, api_key) as client:
        if file is not None:
            from steward.registry.data import read_table

            rows: Any = read_table(file.read_bytes(), file.name)
        elif data is not None:
            try:
                rows = json.loads(data)
            except json.JSONDecodeError as exc:
                raise InvalidInput(f"--data is not JSON: {exc.msg}", field="data") from None
            rows = [rows] if isinstance(rows, dict) else rows
        else:
            raise InvalidInput("give --data or --file", field="data")
        emit(client.predict(deployment, rows), as_json=True)


def feedback(request_id: str, label: str = typer.Option(None, help="True label."),
             value: float = typer.Option(None, help="True numeric value."),
             outcome: float = typer.Option(None, help="Business outcome."),
             row: int = typer.Option(0, help="Row of the request."),
             url: str = UrlOpt, api_key: str = KeyOpt) -> None:
    """Record ground truth / outcome for a served request."""
    with errors_to_exit(), make_client(url, api_key) as client:
        client.feedback(request_id, row=row, label=label, value=value, outcome=outcome)
        console.print(f"recorded feedback for {request_id}")
