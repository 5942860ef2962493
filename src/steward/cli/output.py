"""Printing results as rich tables or JSON, and turning errors into exit codes."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

console = Console()
err_console = Console(stderr=True)

JsonOpt = typer.Option(False, "--json", help="Print machine-readable JSON.")


def emit(data: Any, *, as_json: bool, render: Callable[[Any], None] | None = None) -> None:
    """Print `data` as JSON or through `render`."""
    if as_json or render is None:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    else:
        render(data)


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str], title: str | None = None) -> None:
    """Print rows as a rich table."""
    t = Table(title=title)
    for col in columns:
        t.add_column(col)
    for row in rows:
        t.add_row(*[_cell(row.get(col)) for col in columns])
    console.print(t)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return str(value)


@contextmanager
def errors_to_exit() -> Iterator[None]:
    """Print a `StewardError` or connection problem in one line and exit non-zero."""
    import httpx

    from steward.errors import StewardError

    try:
        yield
    except StewardError as exc:
        err_console.print(f"[red]error[/red] ({exc.status_code}): {exc.message}")
        raise typer.Exit(1) from None
    except httpx.HTTPError as exc:
        err_console.print(f"[red]error[/red]: cannot reach the Steward server: {exc}")
        raise typer.Exit(2) from None
    except (FileNotFoundError, IsADirectoryError) as exc:
        err_console.print(f"[red]error[/red]: {exc.strerror}: {exc.filename}")
        raise typer.Exit(1) from None
