"""`steward demo`: the platform on its embedded default with demo models deployed and answering.

Trains small real models on scikit-learn's breast-cancer data, registers them with lineage and
reference data, deploys a champion with a 10 % canary, a shadow and a rule-model fallback,
sends traffic (some of it drifted, some of it invalid), posts feedback, and prints a tour.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

console = Console()

MODEL = "breast-cancer"
DEPLOYMENT = "cancer-triage"
RULES = """kind: rules
task: classification
classes: [malignant, benign]
rules:
  - when: [{feature: "worst radius", op: gt, value: 16.8}]
    output: malignant
    confidence: 0.9
  - when: [{feature: "worst concave points", op: gt, value: 0.14}]
    output: malignant
    confidence: 0.8
default: benign
default_confidence: 0.7
"""


def _train(folder: Path) -> dict[str, Any]:
    """Train and export the demo models; return their files and evaluation metrics."""
    import numpy as np
    import skops.io as sio
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, roc_auc_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    folder.mkdir(parents=True, exist_ok=True)
    data = load_breast_cancer(as_frame=True)
    frame = data.frame.copy()
    frame["target"] = np.where(frame["target"] == 1, "benign", "malignant")
    X = frame.drop(columns=["target"]).astype("float32")
    y = (frame["target"] == "benign").astype(int)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=7)
    lr = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=500))
    lr.fit(X_train.to_numpy(), y_train)
    rf = RandomForestClassifier(n_estimators=50, max_depth=6, random_state=7)
    rf.fit(X_train.to_numpy(), y_train)

    def metrics(model: Any) -> dict[str, float]:
        proba = model.predict_proba(X_test.to_numpy())[:, 1]
        return {"auc": round(float(roc_auc_score(y_test, proba)), 4),
                "accuracy": round(float(accuracy_score(y_test, proba > 0.5)), 4)}

    onnx_model = to_onnx(lr, initial_types=[("input", FloatTensorType([None, 30]))],
                         options={"zipmap": False}, target_opset=17)
    (folder / "logreg.onnx").write_bytes(onnx_model.SerializeToString())
    (folder / "forest.skops").write_bytes(sio.dumps(rf))
    (folder / "rules.yaml").write_text(RULES)
    reference = X_train.assign(target=frame.loc[X_train.index, "target"])
    reference.to_parquet(folder / "reference.parquet", index=False)
    X_test.assign(target=frame.loc[X_test.index, "target"]).to_parquet(
        folder / "holdout.parquet", index=False)
    return {"lr": metrics(lr), "rf": metrics(rf)}


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode}")
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not become ready in time")


def _admin_key() -> str:
    """Initialise the data folder; on re-runs mint a fresh demo admin key locally."""
    from steward.bootstrap import init
    from steward.db import make_engine, make_sessionmaker, transaction
    from steward.security import service
    from steward.security.principal import Role
    from steward.security.schemas import KeyCreate
    from steward.settings import Settings

    settings = Settings()
    result = init(settings)
    if result.admin_key:
        return result.admin_key
    engine = make_engine(settings.resolved_database_url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            created = service.create_key(session=session,
                                         spec=KeyCreate(name="demo", role=Role.admin,
                                                        expires_in_days=7),
                                         created_by="steward demo")
        return created.key
    finally:
        engine.dispose()


def _setup(client: Any, folder: Path, metrics: dict[str, Any]) -> None:
    """Register the versions and create the deployment (skipped if already there)."""
    from steward.errors import NotFound

    try:
        client.get_model(MODEL)
        return
    except NotFound:
        pass
    client.create_model(
        MODEL, owner="ml-platform@example.com", team="oncology-ml",
        description="Classifies breast tumour biopsies as malignant or benign.",
        use_case="Prioritise biopsy review queues", kpi="malignant recall",
        risk_tier="limited", allowed_purposes=[],
        runbook_url="https://runbooks.example.com/cancer-triage")
    common = {"target": "target", "classes": ["malignant", "benign"]}
    lineage = {"data_uri": "sklearn://load_breast_cancer", "code_ref": "demo",
               "hyperparameters": {"C": 1.0, "max_iter": 500}, "metrics": metrics["lr"]}
    ref = folder / "reference.parquet"
    steps = [("logistic regression (ONNX)", folder / "logreg.onnx", lineage),
             ("random forest (skops)", folder / "forest.skops",
              {"data_uri": "sklearn://load_breast_cancer", "code_ref": "demo",
               "hyperparameters": {"n_estimators": 50, "max_depth": 6},
               "metrics": metrics["rf"]}),
             ("rule baseline (YAML)", folder / "rules.yaml",
              {"data_uri": "sklearn://load_breast_cancer", "code_ref": "demo"})]
    for label, path, lin in steps:
        v = client.register_version(MODEL, path, ref, lineage=lin, **common)
        console.print(f"  registered {label} as version {v['version']}")
    client.set_alias(MODEL, "champion", 1)
    client.set_alias(MODEL, "challenger", 2)
    _promote(client)
    client.create_deployment(DEPLOYMENT, MODEL, "champion", environment="production",
                             fallback={"version": 3})
    client.update_deployment(DEPLOYMENT, canary={"version": 2}, canary_share=0.1)
    client.update_deployment(DEPLOYMENT, shadows=[{"version": 3}])
    console.print(f"  deployed {MODEL}:1 to '{DEPLOYMENT}' (production) with a 10% canary "
                  f"on version 2, a shadow and a rule fallback on version 3")


def _promote(client: Any) -> None:
    """Production needs approved versions: the admin requests, a separate approver approves."""
    from steward.client import Client

    approver_key = client.create_key("demo-approver", "approver", expires_in_days=7)["key"]
    with Client(client.url, approver_key) as approver:
        for version, gates in ((1, {"auc": ">=0.95"}), (2, {"auc": ">=0.95"}), (3, {})):
            request = client.request_approval(MODEL, version, "production", thresholds=gates,
                                              reason="demo rollout")
            approver.approve(request["id"], reason="evidence gates pass")
    console.print("  promoted versions 1-3 to production through approvals "
                  "(requested by admin, approved by a separate approver key)")


def _traffic(client: Any, folder: Path) -> dict[str, Any]:
    """Send normal, drifted and invalid requests; post feedback for half of them."""
    import numpy as np
    import pandas as pd

    from steward.errors import InvalidInput

    holdout = pd.read_parquet(folder / "holdout.parquet")
    truth = holdout.pop("target")
    rng = np.random.default_rng(0)
    routes: dict[str, int] = {}
    request_ids = []
    for i in range(len(holdout)):
        row = holdout.iloc[[i]].copy()
        if i % 2 == 0:  # a drifted sub-population: larger tumours than in training
            row[["mean radius", "worst radius", "mean area"]] *= 1.4 + 0.1 * rng.random()
        out = client.predict(DEPLOYMENT, row, headers={"x-routing-key": f"patient-{i}"})
        route = out["parameters"]["route"]
        routes[route] = routes.get(route, 0) + 1
        request_ids.append(out["id"])
        if i % 2 == 0:
            client.feedback(out["id"], label=str(truth.iloc[i]))
    rejected = None
    try:
        bad = holdout.iloc[[0]].astype(object)
        bad["mean texture"] = "n/a"
        client.predict(DEPLOYMENT, bad.drop(columns=["worst radius"]))
    except InvalidInput as exc:
        rejected = exc.message
    return {"routes": routes, "request_ids": request_ids, "rejected": rejected}


def run(*, port: int = 8000, once: bool = False) -> int:
    """Run the whole demo; serve until Ctrl-C unless `once`."""
    from steward.client import Client
    from steward.settings import Settings

    settings = Settings()
    folder = settings.home / "demo"
    console.rule("[bold]Steward demo")
    console.print(f"data folder: {settings.home}")
    key = _admin_key()
    console.print("training demo models on sklearn's breast-cancer data...")
    metrics = _train(folder)
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "STEWARD_HOME": str(settings.home)}
    proc = subprocess.Popen([sys.executable, "-m", "steward.cli.main", "serve", "--port",
                             str(port)], env=env)
    try:
        _wait_ready(url, proc)
        with Client(url, key) as client:
            _setup(client, folder, metrics)
            time.sleep(0.5)  # let every worker see the new deployment
            result = _traffic(client, folder)
            time.sleep(0.5)  # the background process ships the log every 50 ms
            result["drift"] = client.drift(DEPLOYMENT, window="1h")
            result["performance"] = client.performance(DEPLOYMENT, window="1h")
        _tour(url, key, result)
        if once:
            return 0
        console.print("\n[bold]serving[/bold] — press Ctrl-C to stop")
        return proc.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def _tour(url: str, key: str, result: dict[str, Any]) -> None:
    rid = result["request_ids"][0]
    drift = result["drift"]
    drifted = [f"{f['feature']} ({f['method']} {f['value']:.3g})" for f in drift["features"]
               if f["drifted"]]
    quality = result["performance"].get("quality") or {}
    accuracy = quality.get("accuracy")
    console.print(f"\n[bold]Monitoring[/bold] {drift['window']['rows']} rows in the last hour: "
                  f"{len(drifted)} of {len(drift['features'])} features drifted: "
                  f"{', '.join(drifted[:4]) or 'none'}; accuracy from feedback "
                  f"{'n/a' if accuracy is None else f'{accuracy:.3f}'}")
    body = io.StringIO()
    body.write(f"""
[bold]What is running[/bold] at {url}
  API docs      {url}/docs            dashboard  {url}/ui
  admin key     {key}
  traffic sent  {sum(result['routes'].values())} requests, routes {result['routes']}
  a bad request was refused: {result['rejected']}

[bold]Try it[/bold]
  export STEWARD_API_KEY={key}
  curl -s -H "Authorization: Bearer $STEWARD_API_KEY" {url}/v2/models/{DEPLOYMENT}
  .venv/bin/steward models show {MODEL} --version champion
  .venv/bin/steward models card {MODEL} --version 1
  .venv/bin/steward deploy show {DEPLOYMENT}
  .venv/bin/steward deploy rollback {DEPLOYMENT}
  curl -s -H "Authorization: Bearer $STEWARD_API_KEY" {url}/api/v1/predictions/{rid}
""")
    console.print(body.getvalue(), highlight=False, soft_wrap=True)
