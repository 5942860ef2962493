"""`steward approvals ...` and `steward reviews ...`"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer

from steward.cli.client import KeyOpt, UrlOpt, make_client
from steward.cli.output import JsonOpt, console, emit, errors_to_exit, table

app = typer.Typer(help="Promotion approvals: request, review evidence, approve or reject.",
                  no_args_is_help=True)
reviews = typer.Typer(help="Actions taken without approval, reviewed after the fact.",
                      no_args_is_help=True)
_THRESHOLD = re.compile(r"^\s*([A-Za-z0-9_.:-]+)\s*((?:>=|<=|==|>|<).+)$")


def _show(a: dict[str, Any]) -> None:
    target = a["target"] + (f" via deployment {a['deployment']}" if a["deployment"] else "")
    console.print(f"[bold]#{a['id']}[/bold] {a['model']}:{a['version']} -> {target}  "
                  f"({a['status']})  risk {a['risk_tier']}, needs {a['required_approvals']} "
                  f"approval(s){' incl. compliance' if a['compliance_required'] else ''}")
    console.print(f"  requested by {a['requested_by']}: {a['reason'] or '-'}")
    for g in a["gates"]:
        mark = "[green]pass[/green]" if g["passed"] else "[red]FAIL[/red]"
        console.print(f"  gate {g['name']}: {mark} {g['detail']}", highlight=False)
    for v in a["votes"]:
        console.print(f"  {v['decision']} by {v['approver']} ({v['role']}): {v['reason'] or ''}")
    if a["impact_digest"]:
        console.print(f"  impact assessment {a['impact_filename']} sha256 {a['impact_digest']}")


def _thresholds(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        match = _THRESHOLD.match(item)
        if match is None:
            raise typer.BadParameter(f"{item!r}: use METRIC>=VALUE, e.g. auc>=0.9")
        out[match.group(1)] = match.group(2).strip()
    return out


@app.command()
def request(
    model: str, version: int,
    to: str = typer.Option(..., "--to", help="staging | production"),
    deployment: str = typer.Option(None, help="Deployment whose champion to repoint."),
    threshold: list[str] = typer.Option([], help="Metric gate, e.g. 'auc>=0.9' (repeatable)."),
    reason: str = typer.Option("", help="Why."),
    url: str = UrlOpt, api_key: str = KeyOpt, as_json: bool = JsonOpt,
) -> None:
    """Open a promotion request."""
    with errors_to_exit(), make_client(url, api_key) as client:
        emit(client.request_approval(model, version, to, deployment=deployment,
                                     thresholds=_thresholds(threshold), reason=reason),
             as_json=as_json, render=_show)


@app.command("list")
def list_(status: str = typer.Option(None, help="pending | approved | rejected"),
          model: str = typer.Option(None), url: str = UrlOpt, api_key: str = KeyOpt,
          as_json: bool = JsonOpt) -> None:
    """List requests."""
    with errors_to_exit(), make_client(url, api_key) as client:
        emit(client.list_approvals(status, model), as_json=as_json, render=lambda rows: table(
            rows, ["id", "model", "version", "target", "deployment", "status", "risk_tier",
                   "requested_by"]))


@app.command()
def show(request_id: int, url: str = UrlOpt, api_key: str = KeyOpt,
         as_json: bool = JsonOpt) -> None:
    """Show a request with its votes and evidence gates."""
    with errors_to_exit(), make_client(url, api_key) as client:
        emit(client.get_approval(request_id), as_json=as_json, render=_show)


@app.command()
def approve(request_id: int, reason: str = typer.Option(None), url: str = UrlOpt,
            api_key: str = KeyOpt, as_json: bool = JsonOpt) -> None:
    """Approve (executes the promotion once the quorum is met)."""
    with errors_to_exit(), make_client(url, api_key) as client:
        emit(client.approve(request_id, reason), as_json=as_json, render=_show)


@app.command()
def reject(request_id: int, reason: str = typer.Option(..., help="Why (required)."),
           url: str = UrlOpt, api_key: str = KeyOpt, as_json: bool = JsonOpt) -> None:
    """Reject with a reason."""
    with errors_to_exit(), make_client(url, api_key) as client:
        emit(client.reject(request_id, reason), as_json=as_json, render=_show)


@app.command()
def attach(request_id: int, document: Path, url: str = UrlOpt, api_key: str = KeyOpt,
           as_json: bool = JsonOpt) -> None:
    """Attach the impact-assessment document."""
    with errors_to_exit(), make_client(url, api_key) as client:
        emit(client.attach_impact_assessment(request_id, document), as_json=as_json,
             render=_show)


@reviews.command("list")
def list_flags(all_: bool = typer.Option(False, "--all", help="Include reviewed flags."),
               url: str = UrlOpt, api_key: str = KeyOpt, as_json: bool = JsonOpt) -> None:
    """Flagged actions awaiting review."""
    with errors_to_exit(), make_client(url, api_key) as client:
        emit(client.review_flags(all_), as_json=as_json, render=lambda rows: table(
            rows, ["id", "kind", "target", "environment", "actor", "reason", "created_at",
                   "reviewed_by"]))


@reviews.command()
def close(flag_id: int, note: str = typer.Option(..., help="Review outcome."),
          url: str = UrlOpt, api_key: str = KeyOpt, as_json: bool = JsonOpt) -> None:
    """Close a flag with a review note."""
    with errors_to_exit(), make_client(url, api_key) as client:
        emit(client.close_review_flag(flag_id, note), as_json=as_json,
             render=lambda f: console.print(f"flag {f['id']} reviewed by {f['reviewed_by']}"))
