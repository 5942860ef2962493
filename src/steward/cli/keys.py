"""`steward keys ...`"""

from __future__ import annotations

import typer

from steward.cli.client import KeyOpt, UrlOpt, make_client
from steward.cli.output import JsonOpt, console, emit, errors_to_exit, table

app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)


@app.command()
def create(
    name: str,
    role: str = typer.Option(..., help="viewer | data_scientist | approver | compliance | "
                                       "operator | admin | service"),
    scope: list[str] = typer.Option([], help="Narrowing scope, e.g. predict:churn (repeatable)."),
    env: list[str] = typer.Option([], help="Allowed environment (repeatable; default all)."),
    purpose: list[str] = typer.Option([], help="Allowed purpose (repeatable)."),
    expires_in_days: int = typer.Option(None, help="Expiry in days."),
    rate_limit: int = typer.Option(None, help="Requests per minute (slows model extraction)."),
    daily_budget: int = typer.Option(None, help="Requests per UTC day."),
    url: str = UrlOpt, api_key: str = KeyOpt, as_json: bool = JsonOpt,
) -> None:
    """Create a key; its secret is printed once."""
    spec: dict[str, object] = {"scopes": scope, "purposes": purpose,
                               "expires_in_days": expires_in_days,
                               "rate_limit_per_minute": rate_limit, "daily_budget": daily_budget}
    if env:
        spec["environments"] = env
    with errors_to_exit(), make_client(url, api_key) as client:
        created = client.create_key(name, role, **spec)
        emit(created, as_json=as_json, render=lambda k: console.print(
            f"key {k['id']} ({k['role']}) — shown once:\n{k['key']}", highlight=False,
            soft_wrap=True))


@app.command("list")
def list_(url: str = UrlOpt, api_key: str = KeyOpt, as_json: bool = JsonOpt) -> None:
    """List keys (never their secrets)."""
    with errors_to_exit(), make_client(url, api_key) as client:
        emit(client.list_keys(), as_json=as_json, render=lambda rows: table(
            rows, ["id", "name", "role", "scopes", "environments", "expires_at", "revoked_at"]))


@app.command()
def revoke(key_id: str, url: str = UrlOpt, api_key: str = KeyOpt) -> None:
    """Revoke a key in every worker within a second."""
    with errors_to_exit(), make_client(url, api_key) as client:
        client.revoke_key(key_id)
        console.print(f"revoked {key_id}")


@app.command("rotate-master")
def rotate_master() -> None:
    """Rotate the artifact master key locally (re-wraps every artifact); restart servers after."""
    from steward.bootstrap import rotate_master_key
    from steward.settings import Settings

    result = rotate_master_key(Settings())
    console.print(f"re-wrapped {result.rewrapped} artifact(s) under a new master key")
    if result.new_key:
        console.print("set STEWARD_MASTER_KEY to the new key (shown once):")
        console.print(result.new_key, highlight=False, soft_wrap=True)
    else:
        console.print(f"new key in {result.key_file}; the old one kept as master.key.previous")
