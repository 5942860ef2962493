"""Drift benchmark (BENCHMARKS.md §2): Steward vs plain NumPy PSI vs Evidently, one run.

    .venv/bin/python benchmarks/drift.py [--skip-evidently] [--rows N] [--runs R]

20 features; reference N(0, 1) and current N(0.1, 1), fixed seed. Steward's profile is built
from the reference first (registration, timed separately); the timed step is
``drift_report(profiles, current)``. Evidently 0.7.x runs in its own virtualenv
(benchmarks/.venvs/evidently, created on first use) as a subprocess reading .npy files.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from steward.stats import build_profiles, drift_report

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venvs" / "evidently"
WORK = HERE / ".work"
FEATURES = 20
SEED = 20240601
EVIDENTLY_SCRIPT = """
import sys, time, numpy as np, pandas as pd, evidently
from evidently import Report
from evidently.presets import DataDriftPreset
ref, cur = np.load(sys.argv[1]), np.load(sys.argv[2])
cols = [f"f{i}" for i in range(ref.shape[1])]
ref_df, cur_df = pd.DataFrame(ref, columns=cols), pd.DataFrame(cur, columns=cols)
times = []
for _ in range(int(sys.argv[3])):
    t = time.perf_counter()
    Report([DataDriftPreset(method="psi")]).run(cur_df, ref_df)
    times.append(time.perf_counter() - t)
print("evidently", evidently.__version__, "pandas", pd.__version__, *times)
"""


def timed(fn: Callable[[], object], runs: int) -> float:
    """Median wall time of ``runs`` calls after one warm-up call."""
    fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def documented_psi(ref: np.ndarray, cur: np.ndarray, eps: float = 1e-4) -> float:
    """PSI as documented: reference deciles, own overflow bins, floor 1e-4 and renormalise."""
    edges = np.quantile(ref, np.linspace(0, 1, 101))[::10]

    def masses(x: np.ndarray) -> np.ndarray:
        inside, _ = np.histogram(x, bins=edges)
        m = np.concatenate([[np.sum(x < edges[0])], inside, [np.sum(x > edges[-1])]])
        p = np.maximum(m / m.sum(), eps)
        return p / p.sum()

    c, r = masses(cur), masses(ref)
    return float(np.sum((c - r) * np.log(c / r)))


def numpy_baseline(ref: dict[str, np.ndarray], cur: dict[str, np.ndarray]) -> list[float]:
    """The usual quick PSI: np.quantile decile edges + np.histogram per feature."""
    out = []
    for name in ref:
        edges = np.quantile(ref[name], np.linspace(0, 1, 11))
        r, _ = np.histogram(ref[name], bins=edges)
        c, _ = np.histogram(cur[name], bins=edges)
        rp = np.maximum(r / r.sum(), 1e-4)
        cp = np.maximum(c / c.sum(), 1e-4)
        out.append(float(np.sum((cp - rp) * np.log(cp / rp))))
    return out


def evidently_python() -> Path:
    """The Evidently virtualenv's interpreter, creating the venv on first use."""
    python = VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {VENV} (one-off, a few minutes)", flush=True)
        subprocess.run(["python3", "-m", "venv", str(VENV)], check=True)
        # Evidently 0.7 does not pin pandas but fails to import with pandas 3.
        subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", "evidently==0.7.*",
                        "pandas<3"], check=True)
    return python


def run_evidently(ref: dict[str, np.ndarray], cur: dict[str, np.ndarray],
                  runs: int) -> tuple[float, str]:
    """Median Evidently time (s) and its version line, from a subprocess in its venv."""
    python = evidently_python()
    WORK.mkdir(exist_ok=True)
    ref_path, cur_path = WORK / "drift_ref.npy", WORK / "drift_cur.npy"
    np.save(ref_path, np.column_stack(list(ref.values())))
    np.save(cur_path, np.column_stack(list(cur.values())))
    done = subprocess.run([str(python), "-c", EVIDENTLY_SCRIPT, str(ref_path), str(cur_path),
                           str(runs)], check=True, capture_output=True, text=True)
    words = done.stdout.split()
    return statistics.median(float(w) for w in words[4:]), " ".join(words[:4])


def cpu_model() -> str:
    """CPU model name from /proc/cpuinfo (Linux), else platform's guess."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> int:
    """Run the benchmark and print machine, timings, ratios and the PSI check."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--skip-evidently", action="store_true")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--evidently-runs", type=int, default=1, help="~1 min each at 1e6 rows")
    args = ap.parse_args()

    rng = np.random.default_rng(SEED)
    ref = {f"f{i}": rng.standard_normal(args.rows) for i in range(FEATURES)}
    cur = {f"f{i}": rng.normal(0.1, 1.0, args.rows) for i in range(FEATURES)}
    print(f"machine: nproc={os.cpu_count()} cpu={cpu_model()!r} python={platform.python_version()}"
          f" numpy={np.__version__}")
    print(f"workload: {FEATURES} features x {args.rows:,} rows, ref N(0,1), cur N(0.1,1), "
          f"seed {SEED}; median of {args.runs} runs after warm-up")

    t = time.perf_counter()
    profiles = build_profiles(ref)
    print(f"profile build (registration, not in the ratio): {time.perf_counter() - t:.3f} s")

    steward = timed(lambda: drift_report(profiles, cur, method="psi"), args.runs)
    base = timed(lambda: numpy_baseline(ref, cur), args.runs)
    print(f"steward drift_report      {steward:9.4f} s")
    print(f"numpy quantile-bin PSI    {base:9.4f} s   "
          f"ratio numpy/steward    {base / steward:8.1f}x")
    if not args.skip_evidently:
        evid, version = run_evidently(ref, cur, args.evidently_runs)
        print(f"evidently PSI preset      {evid:9.4f} s   ratio evidently/steward "
              f"{evid / steward:8.1f}x   ({version}, median of {args.evidently_runs})")

    results = drift_report(profiles, cur, method="psi")
    err = max(abs(r.value - documented_psi(ref[r.feature], cur[r.feature])) for r in results)
    ok = err <= 1e-9
    print(f"PSI vs documented formula: max |diff| = {err:.2e} ({'OK' if ok else 'FAIL'} at 1e-9);"
          f" PSI f0 = {results[0].value:.6f}, drifted features {sum(r.drifted for r in results)}")
    print(f"target <= 0.3 s: {'met' if steward <= 0.3 else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
