"""`steward` — init, serve, db, and the API sub-commands."""

from __future__ import annotations

import os
import sys

import typer

from steward.cli import approvals, audit, deploy, keys, models, monitor
from steward.cli.output import JsonOpt, console, emit, err_console

app = typer.Typer(help="Steward: governed, monitored ML model serving.", no_args_is_help=True,
                  pretty_exceptions_show_locals=False)
app.add_typer(models.app, name="models")
app.add_typer(keys.app, name="keys")
app.add_typer(approvals.app, name="approvals")
app.add_typer(approvals.reviews, name="reviews")
app.add_typer(audit.app, name="audit")
app.add_typer(deploy.app, name="deploy")
app.add_typer(monitor.app, name="monitor")
app.add_typer(monitor.alerts_app, name="alerts")
app.command()(deploy.predict)
app.command()(deploy.feedback)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@app.command()
def init(as_json: bool = JsonOpt) -> None:
    """Create the data folder, database and master key; print a first admin key once."""
    from steward.bootstrap import init as do_init
    from steward.settings import Settings

    result = do_init(Settings())
    data = {"database": result.database, "artifacts": result.artifacts,
            "admin_key": result.admin_key}
    if as_json:
        emit(data, as_json=True)
        return
    console.print(f"database:  {result.database}\nartifacts: {result.artifacts}")
    if result.admin_key:
        console.print("[bold]admin API key (shown once, store it now):[/bold]")
        console.print(result.admin_key, soft_wrap=True, highlight=False)
    else:
        console.print("already initialised; no new admin key created")


@app.command()
def serve(
    host: str = typer.Option(None, help="Bind address (default STEWARD_HOST or 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (default STEWARD_PORT or 8000)."),
    workers: int = typer.Option(1, min=1, help="Worker processes sharing the database."),
) -> None:
    """Run the API server (management API, gateway and dashboard in one process tree)."""
    import uvicorn

    from steward.bootstrap import init as do_init
    from steward.settings import Settings

    settings = Settings()
    result = do_init(settings)
    if result.admin_key:
        err_console.print(f"first start: admin API key (shown once): {result.admin_key}",
                          soft_wrap=True, highlight=False)
    os.environ["STEWARD_HOME"] = str(settings.home)  # workers rebuild Settings from env
    if workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        # Spawned workers import prometheus_client with this set, so each writes its metrics
        # to files here and /metrics on any worker sums them; stale files would double-count.
        import shutil

        metrics_dir = settings.home / "prometheus"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    # Workers only serve; one supervised background process ships the prediction log and runs
    # monitoring, alerts and webhooks (see steward.background).
    os.environ["STEWARD_ROLE"] = "serve"
    background = _Supervised([sys.executable, "-m", "steward.background"])
    try:
        uvicorn.run("steward.server:create", factory=True, host=host or settings.host,
                    port=port or settings.port, workers=workers, http="httptools",
                    loop="uvloop", log_level="warning", access_log=False)
    finally:
        background.stop()


class _Supervised:
    """A child process restarted whenever it dies abnormally, until `stop`.

    A clean exit (0) means it was told to stop — Ctrl-C or SIGTERM reach the whole process
    group, and the server is shutting down with it — so it is not restarted."""

    def __init__(self, cmd: list[str]) -> None:
        import subprocess
        import threading

        self._cmd = cmd
        self._stopping = threading.Event()
        self._proc = subprocess.Popen(cmd)
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        import subprocess

        while not self._stopping.is_set():
            code = self._proc.poll()
            if code == 0:
                return
            if code is not None and not self._stopping.is_set():
                err_console.print(f"background process exited ({self._proc.returncode}); "
                                  "restarting")
                self._proc = subprocess.Popen(self._cmd)
            self._stopping.wait(1.0)

    def stop(self) -> None:
        import subprocess

        self._stopping.set()
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._proc.kill()


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Migrate the database schema to the latest revision without data loss."""
    from steward import migrate
    from steward.db import make_engine
    from steward.settings import Settings

    settings = Settings()
    engine = make_engine(settings.resolved_database_url)
    try:
        before = migrate.current(engine)
        migrate.upgrade(engine, revision)
        after = migrate.current(engine)
    finally:
        engine.dispose()
    console.print(f"database {settings.redacted_database_url}: {before or 'empty'} -> {after}")


@app.command()
def demo(
    port: int = typer.Option(8000, help="Port for the demo server."),
    once: bool = typer.Option(False, help="Run the tour and exit instead of serving on."),
) -> None:
    """Train, register and serve demo models on the embedded store, then keep serving."""
    from steward.demo import run

    raise typer.Exit(run(port=port, once=once))


if __name__ == "__main__":
    app()
