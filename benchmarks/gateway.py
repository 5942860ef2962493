"""BENCHMARKS.md §1 — online inference: ceiling vs Steward's governed path vs MLServer, one run.

    .venv/bin/python benchmarks/gateway.py [--duration 15] [--runs 3] [--skip-mlserver]

Workload: StandardScaler + LogisticRegression on load_breast_cancer (30 float32 features) →
ONNX (skl2onnx, zipmap off); one row per request as OIP v2 JSON; wrk, 16 connections.
Targets, each on 2 workers: (1) ceiling = bare ASGI app (benchmarks/gateway/ceiling.py);
(2) `steward serve --workers 2` on a temp home (SQLite), API key, contract validation, a 10 %
canary, durable (sync) prediction log; (3) MLServer 1.7.1 + mlserver-sklearn (joblib) in
benchmarks/.venvs/mlserver (created on first use).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
ASSETS = HERE / "gateway"
MLSERVER_VENV = HERE / ".venvs" / "mlserver"
CONNECTIONS = 16


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, timeout: float = 120.0, headers: dict[str, str] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1, headers=headers).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready after {timeout:.0f} s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def train(workdir: Path) -> tuple[Path, Path, Path, list[float]]:
    """Fit the pipeline; write ONNX, joblib and the reference Parquet; return one row."""
    import joblib
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    frame = load_breast_cancer(as_frame=True).frame
    X = frame.drop(columns=["target"]).to_numpy(dtype="float32")
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    model.fit(X, frame["target"])
    onnx_path, joblib_path, ref_path = (workdir / "model.onnx", workdir / "model.joblib",
                                        workdir / "reference.parquet")
    onnx_path.write_bytes(to_onnx(model, initial_types=[("input", FloatTensorType([None, 30]))],
                                  options={"zipmap": False}, target_opset=17).SerializeToString())
    joblib.dump(model, joblib_path)
    frame.to_parquet(ref_path, index=False)
    return onnx_path, joblib_path, ref_path, [float(v) for v in X[0]]


def wrk(url: str, body: Path, duration: int, key: str = "") -> dict[str, float]:
    """Run wrk with the Lua body script; parse req/s, p50 and p99 (ms)."""
    env = {**os.environ, "BENCH_BODY": str(body), "BENCH_KEY": key}
    out = subprocess.run(["wrk", "-t", "2", "-c", str(CONNECTIONS), "-d", f"{duration}s",
                          "--latency", "-s", str(ASSETS / "post.lua"), url],
                         env=env, capture_output=True, text=True, check=True).stdout
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise RuntimeError(f"{url}: {non2xx.group(1)} failed responses\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def pct(p: str) -> float:
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return {"rps": rps, "p50": pct("50"), "p99": pct("99")}


def run_ceiling(onnx: Path, body: Path, duration: int) -> dict[str, float]:
    """Bare ASGI app on uvicorn (2 workers, httptools, uvloop)."""
    port = _port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "ceiling:app", "--app-dir", str(ASSETS), "--port",
         str(port), "--workers", "2", "--http", "httptools", "--loop", "uvloop",
         "--log-level", "warning", "--no-access-log"],
        env={**os.environ, "CEILING_MODEL": str(onnx)}, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/v2/models/cancer/infer"
        _wait_post(url, body)
        wrk(url, body, 2)  # warm-up
        return wrk(url, body, duration)
    finally:
        _stop(proc)


def _wait_post(url: str, body: Path, key: str = "", timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    while time.monotonic() < deadline:
        try:
            if httpx.post(url, content=body.read_bytes(), headers=headers,
                          timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer 200 within {timeout:.0f} s")


def setup_steward(home: Path, onnx: Path, ref: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    """Init a temp home, start `steward serve --workers 2`, register, deploy with a canary."""
    from steward.client import Client

    env = {**os.environ, "STEWARD_HOME": str(home), "STEWARD_LOG_DURABILITY": "sync",
           "STEWARD_LOG_LEVEL": "WARNING"}
    cli = [sys.executable, "-c", "from steward.cli.main import app; app()"]
    init = subprocess.run([*cli, "init", "--json"], env=env, capture_output=True, text=True,
                          check=True)
    admin_key = json.loads(init.stdout)["admin_key"]
    port = _port()
    proc = subprocess.Popen([*cli, "serve", "--workers", "2", "--port", str(port)], env=env,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    _wait(f"{url}/v2/health/ready")
    with Client(url, admin_key) as admin:
        admin.create_model("cancer", owner="bench")
        for _ in range(2):  # v2 (same artifact) is the canary
            admin.register_version("cancer", onnx, ref, artifact_filename="model.onnx",
                                   target="target", classes=["malignant", "benign"])
        admin.create_deployment("bench", "cancer", 1)
        admin.update_deployment("bench", canary={"version": 2}, canary_share=0.1)
        key = str(admin.create_key("bench", "service")["key"])
    time.sleep(1.0)  # both workers pick up the deployment (0.2 s poller) and preload
    return proc, url, key


def run_steward(onnx: Path, ref: Path, body: Path, duration: int, home: Path
                ) -> dict[str, float]:
    """Steward's full governed path."""
    proc, url, key = setup_steward(home, onnx, ref)
    try:
        infer = f"{url}/v2/models/bench/infer"
        _wait_post(infer, body, key)
        wrk(infer, body, 2, key)
        return wrk(infer, body, duration, key)
    finally:
        _stop(proc)


def ensure_mlserver() -> Path:
    """MLServer 1.7.1 in its own virtualenv (created on first use)."""
    exe = MLSERVER_VENV / "bin" / "mlserver"
    if not exe.exists():
        print(f"creating {MLSERVER_VENV} (mlserver 1.7.1, mlserver-sklearn) ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(MLSERVER_VENV)], check=True)
        subprocess.run([str(MLSERVER_VENV / "bin" / "pip"), "install", "-q", "mlserver==1.7.1",
                        "mlserver-sklearn==1.7.1", "scikit-learn",
                        # uvloop 0.22+ no longer creates a loop in get_event_loop(), which
                        # MLServer 1.7.1 relies on at start-up.
                        "uvloop<0.22"], check=True)
    return exe


def run_mlserver(joblib_path: Path, body: Path, duration: int, workdir: Path
                 ) -> dict[str, float]:
    """MLServer serving the same pipeline from joblib."""
    exe = ensure_mlserver()
    folder = workdir / "mlserver"
    (folder / "cancer").mkdir(parents=True)
    shutil.copy(joblib_path, folder / "cancer" / "model.joblib")
    port = _port()
    (folder / "settings.json").write_text(json.dumps(
        {"http_port": port, "grpc_port": _port(), "metrics_port": _port()}))
    (folder / "cancer" / "model-settings.json").write_text(json.dumps(
        {"name": "cancer", "implementation": "mlserver_sklearn.SKLearnModel",
         "parameters": {"uri": "./model.joblib"}}))
    proc = subprocess.Popen([str(exe), "start", str(folder)], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/v2/models/cancer/infer"
        _wait_post(url, body)
        wrk(url, body, 2)
        return wrk(url, body, duration)
    finally:
        _stop(proc)


def versions() -> str:
    """Versions of what is measured."""
    import onnxruntime
    import uvicorn

    from steward import __version__

    wrk_v = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0]
    ml = ""
    if (MLSERVER_VENV / "bin" / "mlserver").exists():
        ml = subprocess.run([str(MLSERVER_VENV / "bin" / "pip"), "show", "mlserver"],
                            capture_output=True, text=True).stdout
        ml = "mlserver " + next((line.split()[1] for line in ml.splitlines()
                                 if line.startswith("Version")), "?")
    return (f"python {platform.python_version()}, steward {__version__}, uvicorn "
            f"{uvicorn.__version__}, onnxruntime {onnxruntime.__version__}, {wrk_v.strip()}"
            + (f", {ml}" if ml else ""))


def machine() -> str:
    """nproc and CPU model."""
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return f"nproc {os.cpu_count()}, {cpu}"


def main() -> None:
    """Run every target once, print the table and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=15, help="seconds per target")
    parser.add_argument("--skip-mlserver", action="store_true")
    parser.add_argument("--runs", type=int, default=3, help="rounds; medians are reported")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: run `apt-get install -y wrk` (Debian package)")
    with tempfile.TemporaryDirectory(prefix="steward-bench-") as tmp:
        work = Path(tmp)
        onnx, joblib_path, ref, row = train(work)
        body = work / "body.json"
        body.write_text(json.dumps({"inputs": [
            {"name": "input", "shape": [1, 30], "datatype": "FP32", "data": row}]}))
        print(f"machine: {machine()}")
        runs: list[dict[str, dict[str, float]]] = []
        for i in range(args.runs):  # whole rounds, so each round's ratios share conditions
            results: dict[str, dict[str, float]] = {}
            results["ceiling"] = run_ceiling(onnx, body, args.duration)
            results["steward"] = run_steward(onnx, ref, body, args.duration, work / f"home{i}")
            if not args.skip_mlserver:
                results["mlserver"] = run_mlserver(joblib_path, body, args.duration,
                                                   work / f"ml{i}")
            runs.append(results)
        print(f"versions: {versions()}")
        print(f"wrk: {CONNECTIONS} connections, {args.duration} s per target, 1-row OIP v2 JSON, "
              f"{args.runs} round(s)")
        print(f"{'round':<7}{'target':<10}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}"
              f"{'/ceiling':>10}{'/mlserver':>11}")
        ceiling_ratios, mlserver_ratios, p99s = [], [], []
        for i, results in enumerate(runs, 1):
            s = results["steward"]
            ceiling_ratios.append(s["rps"] / results["ceiling"]["rps"])
            p99s.append(s["p99"])
            if "mlserver" in results:
                mlserver_ratios.append(s["rps"] / results["mlserver"]["rps"])
            for name, r in results.items():
                extra = ""
                if name == "steward":
                    extra = f"{ceiling_ratios[-1]:>9.2f}x" + (
                        f"{mlserver_ratios[-1]:>10.1f}x" if mlserver_ratios else "")
                print(f"{i:<7}{name:<10}{r['rps']:>10.0f}{r['p50']:>10.2f}{r['p99']:>10.2f}"
                      f"{extra}")
        print(f"steward/ceiling: median {statistics.median(ceiling_ratios):.2f}x "
              f"(rounds: {', '.join(f'{r:.2f}' for r in ceiling_ratios)}; target >= 0.6)")
        if mlserver_ratios:
            print(f"steward/mlserver: median {statistics.median(mlserver_ratios):.1f}x "
                  f"(rounds: {', '.join(f'{r:.1f}' for r in mlserver_ratios)}; target >= 8)")
        print(f"steward p99: median {statistics.median(p99s):.2f} ms (target <= 10)")

if __name__ == "__main__":
    main()
