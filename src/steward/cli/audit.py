"""`steward audit list|export|verify|seal`"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from steward.cli.client import KeyOpt, UrlOpt, make_client
from steward.cli.output import JsonOpt, console, emit, err_console, errors_to_exit, table

app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)


@app.command("list")
def list_(action: str = typer.Option(None), target: str = typer.Option(None),
          actor: str = typer.Option(None),
          outcome: str = typer.Option(None, help="ok | denied | rejected"),
          limit: int = typer.Option(50, min=1, max=1000), url: str = UrlOpt,
          api_key: str = KeyOpt, as_json: bool = JsonOpt) -> None:
    """Newest entries first."""
    with errors_to_exit(), make_client(url, api_key) as client:
        rows = client.audit_entries(action=action, target=target, actor=actor,
                                    outcome=outcome, limit=limit)
        emit(rows, as_json=as_json, render=lambda r: table(
            r, ["seq", "at", "actor", "action", "target", "outcome", "request_id"]))


@app.command()
def export(out: Path = typer.Option(None, "--out", "-o", help="JSONL file (default stdout)."),
           since_seq: int = typer.Option(0, help="Only entries after this seq."),
           url: str = UrlOpt, api_key: str = KeyOpt) -> None:
    """Write the chain as JSON lines (with hashes, for offline verification)."""
    with errors_to_exit(), make_client(url, api_key) as client:
        if out is None:
            count = client.audit_export(sys.stdout.buffer, since_seq)
        else:
            with out.open("wb") as fh:
                count = client.audit_export(fh, since_seq)
    err_console.print(f"exported {count} entries")


@app.command()
def verify(file: Path = typer.Option(None, "--file", help="Check an exported JSONL offline "
                                                          "(links and hashes) instead."),
           url: str = UrlOpt, api_key: str = KeyOpt, as_json: bool = JsonOpt) -> None:
    """Check the whole chain and its signed digests; exit 1 naming the first bad entry."""
    if file is not None:
        from steward.audit.chain import Verdict, verify_entries

        verdict = Verdict()
        with errors_to_exit(), file.open() as fh:
            verify_entries((json.loads(line) for line in fh if line.strip()), verdict)
        report = {"ok": verdict.ok, "entries": verdict.entries, "digests": 0,
                  "first_bad": verdict.first_bad, "problem": verdict.problem}
    else:
        with errors_to_exit(), make_client(url, api_key) as client:
            report = client.audit_verify()
    emit(report, as_json=as_json, render=lambda r: console.print(
        f"audit trail intact: {r['entries']} entries, {r['digests']} signed digests" if r["ok"]
        else f"[red]audit trail BROKEN at entry {r['first_bad']}[/red]: {r['problem']}",
        highlight=False))
    if not report["ok"]:
        raise typer.Exit(1)


@app.command()
def seal(url: str = UrlOpt, api_key: str = KeyOpt, as_json: bool = JsonOpt) -> None:
    """Sign the current head of the chain now (also done periodically by the server)."""
    with errors_to_exit(), make_client(url, api_key) as client:
        emit(client.audit_seal(), as_json=as_json, render=lambda d: console.print(
            f"sealed entry {d['seq']} ({d['hash'][:16]}...)" if d else "audit trail is empty"))
