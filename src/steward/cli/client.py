"""Building the SDK client for CLI commands from options and environment."""

from __future__ import annotations

import typer

from steward.client import Client

UrlOpt = typer.Option(None, "--url", envvar="STEWARD_URL", help="Server URL.")
KeyOpt = typer.Option(None, "--api-key", envvar="STEWARD_API_KEY",
                      help="API key (prefer the STEWARD_API_KEY variable).", show_default=False)


def make_client(url: str | None, api_key: str | None) -> Client:
    """A client for the given server and key."""
    return Client(url, api_key)
