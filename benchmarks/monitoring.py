"""Monitoring benchmark: fold 1M logged rows x 20 features into aggregates, then windows.

    .venv/bin/python benchmarks/monitoring.py [--rows N] [--rows-per-request K]
        [--database-url URL] [--evidently]

Same workload as drift.py (BENCHMARKS.md §2): reference N(0, 1), current N(0.1, 1), 20
features, fixed seed. The profile is stored on a model version in a fresh database (SQLite
in a temp folder unless --database-url); the current rows are written to the prediction log
through the real spool sink (K rows per logged request, spread over ~1,000 minutes). Timed
separately: (1) the aggregator folding every logged row into per-minute buckets, (2) the
drift report of the whole window computed from those buckets (median of --runs). With
--evidently, Evidently's time on the same frames is measured via drift.py's runner.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from steward import migrate
from steward.db import make_engine, make_sessionmaker, transaction
from steward.deployments.tables import Deployment
from steward.monitoring.aggregator import Layouts, fold_pass
from steward.monitoring.service import drift
from steward.monitoring.windows import Window
from steward.predictions.service import make_sink
from steward.registry.tables import ModelVersion, RegisteredModel
from steward.stats import build_profiles

FEATURES = 20
SEED = 20240601
MINUTES = 1_000


def setup(factory: sessionmaker[Session], ref: dict[str, np.ndarray]) -> int:
    """A model version holding the reference profile; returns its id."""
    contract = {"task": "regression", "features": [{"name": n, "dtype": "float"} for n in ref],
                "outputs": [{"name": "prediction", "dtype": "float"}]}
    profile = {"features": build_profiles(ref),
               "outputs": build_profiles({"prediction": ref["f0"] + ref["f1"]})}
    with transaction(factory) as s:
        model = RegisteredModel(name="bench", owner="bench", created_by="bench")
        s.add(model)
        s.flush()
        version = ModelVersion(model_id=model.id, version=1, artifact_digest="0" * 64,
                               artifact_format="onnx", artifact_size=0, artifact_filename="x",
                               task="regression", contract=contract, profile=profile,
                               lineage={}, created_by="bench")
        s.add(version)
        s.flush()
        s.add(Deployment(name="bench", environment="dev", champion_version_id=version.id,
                         created_by="bench"))
        return version.id


def log_rows(factory: sessionmaker[Session], vid: int, cur: dict[str, np.ndarray],
             per_request: int, now: float) -> int:
    """Write the current rows to the prediction log with the spool's sink."""
    sink = make_sink(factory)
    n = next(iter(cur.values())).size
    names = list(cur)
    pred = cur["f0"] + cur["f1"]
    batch, count = [], 0
    for start in range(0, n, per_request):
        stop = min(start + per_request, n)
        ts = now - MINUTES * 60 * (1 - start / n)
        batch.append({"request_id": uuid.uuid4().hex, "ts": ts, "deployment": "bench",
                      "environment": "dev", "model": "bench", "version": 1, "version_id": vid,
                      "route": "champion", "rows": stop - start,
                      "inputs": {c: cur[c][start:stop].tolist() for c in names},
                      "outputs": {"prediction": pred[start:stop].tolist()},
                      "latency_ms": 2.0, "ood": [], "fallback": False})
        if len(batch) == 5000:
            sink(batch)
            count += len(batch)
            batch = []
    if batch:
        sink(batch)
        count += len(batch)
    return count


def main() -> int:
    """Run the benchmark and print its results."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--rows-per-request", type=int, default=10)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--evidently", action="store_true", help="also time Evidently (~1 min)")
    args = ap.parse_args()

    rng = np.random.default_rng(SEED)
    ref = {f"f{i}": rng.normal(0.0, 1.0, args.rows) for i in range(FEATURES)}
    cur = {f"f{i}": rng.normal(0.1, 1.0, args.rows) for i in range(FEATURES)}
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = make_engine(url)
        migrate.upgrade(engine)
        factory = make_sessionmaker(engine)
        t = time.perf_counter()
        vid = setup(factory, ref)
        print(f"profile + version stored: {time.perf_counter() - t:.2f} s")
        now = time.time()
        t = time.perf_counter()
        records = log_rows(factory, vid, cur, args.rows_per_request, now)
        print(f"logged {args.rows:,} rows x {FEATURES} features in {records:,} requests: "
              f"{time.perf_counter() - t:.1f} s (setup, not timed)")

        t = time.perf_counter()
        folded = fold_pass(factory, Layouts(), grace_s=0.0)
        fold_s = time.perf_counter() - t
        assert folded == records, (folded, records)
        print(f"fold into 1-minute aggregates: {fold_s:.2f} s "
              f"({args.rows / fold_s:,.0f} rows/s, {records / fold_s:,.0f} requests/s)")

        end = datetime.fromtimestamp(now + 60, UTC)
        window = Window(end, end - timedelta(minutes=MINUTES + 2))
        layouts = Layouts()

        def compute() -> dict[str, float]:
            with factory() as session:
                out = drift(session=session, layouts=layouts, deployment="bench",
                            window=window)
            assert out.window.rows == args.rows and out.window.unfolded_requests == 0
            return {f["feature"]: f["statistics"]["psi"] for f in out.features}

        psi = compute()
        times = []
        for _ in range(args.runs):
            t = time.perf_counter()
            compute()
            times.append(time.perf_counter() - t)
        window_s = statistics.median(times)
        print(f"window drift from aggregates (~{MINUTES} buckets, 20 features + output): "
              f"{window_s * 1e3:.0f} ms median of {args.runs}")
        # The same numbers as computing on the raw arrays (stats.drift_report).
        from steward.stats import drift_report

        direct = {r.feature: r.statistics["psi"]
                  for r in drift_report(build_profiles(ref), cur, method="psi")}
        worst = max(abs(psi[k] - direct[k]) for k in direct)
        print(f"max |PSI(aggregates) - PSI(raw arrays)| = {worst:.2e}")
        if args.evidently:
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            from drift import run_evidently  # type: ignore[import-not-found]

            ev_s, version = run_evidently(ref, cur, 1)
            print(f"{version}: {ev_s:.1f} s; window from aggregates is "
                  f"{ev_s / window_s:,.0f}x faster")
        engine.dispose()
    return 0 if worst < 1e-9 else 1


if __name__ == "__main__":
    raise SystemExit(main())
