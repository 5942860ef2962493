"""`steward monitor drift|quality|performance|fairness|config` and `steward alerts ...`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from steward.cli.client import KeyOpt, UrlOpt, make_client
from steward.cli.output import JsonOpt, console, emit, errors_to_exit, table

app = typer.Typer(help="Drift, data quality, live performance and fairness of deployments.",
                  no_args_is_help=True)
alerts_app = typer.Typer(help="Alert rules and alerts.", no_args_is_help=True)

WindowOpt = typer.Option(None, "--window", help="Time window: 30m, 1h, 7d (default 1h).")
LastOpt = typer.Option(None, "--last", help="The last N logged rows instead of a time window.")
VersionOpt = typer.Option(None, "--version", help="Version (N or MODEL:N); default champion.")
StepOpt = typer.Option(None, "--step", help="Series step in minutes.")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def _window(w: dict[str, Any]) -> str:
    span = f"last {w['last']} rows" if w.get("last") else f"{w['start']} .. {w['end']}"
    return f"{span}: {w['rows']} rows in {w['requests']} requests"


def _show_drift(r: dict[str, Any]) -> None:
    console.print(f"[bold]{r['deployment']}[/bold] {r['version']}  {_window(r['window'])}\n"
                  f"dataset drift: {'[red]yes[/red]' if r['dataset_drift'] else 'no'} "
                  f"({r['drifted_share']:.0%} drifted, threshold {r['drift_share']:.0%})")
    for title, items in (("features", r["features"]), ("outputs", r["outputs"])):
        table([{**f, "value": _fmt(f["value"]), "missing_rate": _fmt(f["missing_rate"]),
                "drifted": "[red]drift[/red]" if f["drifted"] else "ok"} for f in items],
              ["feature", "kind", "method", "value", "threshold", "drifted", "missing_rate"],
              title=title)


def _show_quality(r: dict[str, Any]) -> None:
    console.print(f"[bold]{r['deployment']}[/bold] {r['version']}  {_window(r['window'])}\n"
                  f"errors {_fmt(r['error_rate'])}  fallbacks {_fmt(r['fallback_rate'])} "
                  f"(previous {_fmt(r['previous_fallback_rate'])})  ood {_fmt(r['ood_rate'])}")
    table([{k: _fmt(v) for k, v in f.items()} for f in r["features"]],
          ["feature", "completeness", "type_violations", "range_violations", "unseen",
           "ood_rate"], title="features")
    table([{**c, "value": _fmt(c["value"]),
            "status": "[red]FAIL[/red]" if c["status"] == "fail" else "ok"}
           for c in r["checks"] if c["check"] != "completeness" or c["status"] == "fail"],
          ["check", "target", "status", "value", "threshold", "detail"], title="checks")


def _show_performance(r: dict[str, Any]) -> None:
    console.print(f"[bold]{r['deployment']}[/bold] ({r['task']})  {_window(r['window'])}")
    table([{k: _fmt(v) for k, v in s.items()} for s in r["serving"]],
          ["version", "route", "requests", "rows", "error_rate", "fallback_rate",
           "latency_p50_ms", "latency_p90_ms", "latency_p99_ms", "throughput_per_min"],
          title="serving")
    q = {k: _fmt(v) for k, v in r["quality"].items() if not isinstance(v, list | dict)}
    table([q], list(q), title="model quality (with feedback)")


def _show_fairness(r: dict[str, Any]) -> None:
    console.print(f"[bold]{r['deployment']}[/bold] positive label {r['positive_label']!r}")
    for f in r["features"]:
        table([{"group": g, **{k: _fmt(v) for k, v in m.items()}}
               for g, m in f["groups"].items()], ["group", "n", "selection_rate", "tpr", "fpr"],
              title=f"{f['feature']}: DPD {_fmt(f['demographic_parity_difference'])}, "
                    f"EOD {_fmt(f['equalized_odds_difference'])}")


@app.command()
def drift(deployment: str, window: str = WindowOpt, last: int = LastOpt,
          version: str = VersionOpt, html: Path = typer.Option(None, help="Write the HTML "
                                                               "report to this file."),
          url: str = UrlOpt, api_key: str = KeyOpt, as_json: bool = JsonOpt) -> None:
    """Feature and prediction drift against the reference profile."""
    with errors_to_exit(), make_client(url, api_key) as client:
        if html is not None:
            html.write_text(client.drift_report_html(deployment, window=window, last=last,
                                                     version=version))
        emit(client.drift(deployment, window=window, last=last, version=version),
             as_json=as_json, render=_show_drift)


@app.command()
def quality(deployment: str, window: str = WindowOpt, last: int = LastOpt,
            version: str = VersionOpt, url: str = UrlOpt, api_key: str = KeyOpt,
            as_json: bool = JsonOpt) -> None:
    """Completeness, violations, OOD and silent-failure checks."""
    with errors_to_exit(), make_client(url, api_key) as client:
        emit(client.data_quality(deployment, window=window, last=last, version=version),
             as_json=as_json, render=_show_quality)


@app.command()
def performance(deployment: str, window: str = WindowOpt, last: int = LastOpt,
                step: int = StepOpt, url: str = UrlOpt, api_key: str = KeyOpt,
                as_json: bool = JsonOpt) -> None:
    """Latency, throughput, errors; accuracy/AUC/calibration or MAE/RMSE from feedback."""
    with errors_to_exit(), make_client(url, api_key) as client:
        emit(client.performance(deployment, window=window, last=last, step=step),
             as_json=as_json, render=_show_performance)


@app.command()
def fairness(deployment: str, window: str = WindowOpt, last: int = LastOpt,
             step: int = StepOpt, url: str = UrlOpt, api_key: str = KeyOpt,
             as_json: bool = JsonOpt) -> None:
    """Selection rate per group, demographic parity and equalized odds differences."""
    with errors_to_exit(), make_client(url, api_key) as client:
        emit(client.fairness(deployment, window=window, last=last, step=step),
             as_json=as_json, render=_show_fairness)


@app.command()
def config(deployment: str, set_json: str = typer.Option(None, "--set", help="New config as "
                                                         "JSON (replaces the old one)."),
           url: str = UrlOpt, api_key: str = KeyOpt) -> None:
    """Show or replace a deployment's monitoring config."""
    with errors_to_exit(), make_client(url, api_key) as client:
        out = (client.set_monitoring_config(deployment, json.loads(set_json)) if set_json
               else client.monitoring_config(deployment))
        emit(out, as_json=True)


_RULE_COLUMNS = ["id", "name", "deployment", "metric", "comparator", "threshold", "window",
                 "feature", "retrain", "enabled"]


@alerts_app.command()
def rules(deployment: str = typer.Option(None, help="Only this deployment."),
          url: str = UrlOpt, api_key: str = KeyOpt, as_json: bool = JsonOpt) -> None:
    """List alert rules."""
    with errors_to_exit(), make_client(url, api_key) as client:
        emit(client.alert_rules(deployment), as_json=as_json,
             render=lambda rows: table(rows, _RULE_COLUMNS, title="alert rules"))


@alerts_app.command()
def create(name: str, deployment: str = typer.Option(..., help="Deployment."),
           metric: str = typer.Option(..., help="e.g. psi, drift_share, error_rate, "
                                                "latency_p99_ms, accuracy"),
           threshold: float = typer.Option(..., help="Threshold."),
           comparator: str = typer.Option(">", help="> >= < <="),
           window: str = typer.Option("1h", help="Evaluation window."),
           feature: str = typer.Option(None, help="Only this feature."),
           version: str = VersionOpt,
           retrain: bool = typer.Option(False, help="Flag alerts as retraining triggers."),
           auto_resolve: bool = typer.Option(False, help="Resolve when the condition clears."),
           url: str = UrlOpt, api_key: str = KeyOpt, as_json: bool = JsonOpt) -> None:
    """Create an alert rule NAME."""
    with errors_to_exit(), make_client(url, api_key) as client:
        emit(client.create_alert_rule(name, deployment, metric, threshold, comparator=comparator,
                                      window=window, feature=feature, version=version,
                                      retrain=retrain, auto_resolve=auto_resolve),
             as_json=as_json, render=lambda r: table([r], _RULE_COLUMNS, title="created"))


@alerts_app.command("list")
def list_(deployment: str = typer.Option(None, help="Only this deployment."),
          status: str = typer.Option(None, help="open | resolved"),
          url: str = UrlOpt, api_key: str = KeyOpt, as_json: bool = JsonOpt) -> None:
    """List alerts, newest first."""
    with errors_to_exit(), make_client(url, api_key) as client:
        emit(client.alerts(deployment, status), as_json=as_json, render=lambda rows: table(
            rows, ["id", "deployment", "metric", "scope", "value", "threshold", "status",
                   "retrain", "opened_at"], title="alerts"))


@alerts_app.command()
def resolve(alert_id: int, note: str = typer.Option(None, help="Why it is closed."),
            url: str = UrlOpt, api_key: str = KeyOpt, as_json: bool = JsonOpt) -> None:
    """Resolve an open alert."""
    with errors_to_exit(), make_client(url, api_key) as client:
        emit(client.resolve_alert(alert_id, note), as_json=as_json,
             render=lambda a: console.print(f"alert {a['id']} {a['status']}"))
