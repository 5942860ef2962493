"""Shared fixtures: real SQLite and real PostgreSQL, real models trained here, real HTTP."""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from steward import migrate
from steward.bootstrap import init
from steward.client import Client
from steward.db import make_engine
from steward.settings import Settings

PG_ADMIN_URL = os.environ.get("STEWARD_TEST_PG",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = [b for b in os.environ.get("STEWARD_TEST_BACKENDS", "sqlite,postgresql").split(",")
            if b]


class PgDatabases:
    """Creates throw-away PostgreSQL databases from a migrated template (fast, isolated)."""

    def __init__(self) -> None:
        self.admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        self.template = f"steward_tpl_{uuid.uuid4().hex[:8]}"
        self.created: list[str] = []
        self._migrated = False

    def url(self, name: str) -> str:
        """URL of a database on the same server."""
        return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name

    def _exec(self, sql: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(sql))

    def fresh(self) -> str:
        """A new migrated, empty database."""
        if not self._migrated:
            self._exec(f'CREATE DATABASE "{self.template}"')
            self.created.append(self.template)
            engine = make_engine(self.url(self.template))
            migrate.upgrade(engine)  # schema only: each test's init() makes its own admin key
            engine.dispose()
            self._migrated = True
        name = f"steward_t_{uuid.uuid4().hex[:10]}"
        self._exec(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        self.created.append(name)
        return self.url(name)

    def drop_all(self) -> None:
        """Remove every database this run created."""
        for name in reversed(self.created):
            self._exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin.dispose()


@pytest.fixture(scope="session")
def pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgDatabases | None]:
    """PostgreSQL database factory, or None when the server is not reachable (never in CI)."""
    try:
        dbs = PgDatabases()
        with dbs.admin.connect():
            pass
    except Exception:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL} in CI")
        yield None
        return
    try:
        yield dbs
    finally:
        dbs.drop_all()


@dataclass
class Env:
    """A configured, initialised Steward data folder on one backend."""

    backend: str
    settings: Settings
    admin_key: str


@pytest.fixture(params=BACKENDS)
def env(request: pytest.FixtureRequest, tmp_path: Path, pg: PgDatabases | None) -> Env:
    """A fresh Steward home on SQLite or PostgreSQL, with its first admin key."""
    backend: str = request.param
    home = tmp_path / "home"
    if backend == "postgresql":
        if pg is None:
            pytest.skip("PostgreSQL not reachable")
        settings = Settings(home=home, database_url=pg.fresh())
    else:
        settings = Settings(home=home)
    result = init(settings)
    assert result.admin_key is not None
    return Env(backend, settings, result.admin_key)


@pytest.fixture
def app(env: Env) -> FastAPI:
    """The real app built by the factory."""
    from steward.app import create_app

    return create_app(env.settings)


@pytest.fixture
def http(app: FastAPI) -> Iterator[TestClient]:
    """Real HTTP requests through the ASGI app (lifespan running)."""
    with TestClient(app) as client:
        yield client


@pytest.fixture
def admin(http: TestClient, env: Env) -> Client:
    """The SDK, authenticated as the first admin, talking to the app."""
    return Client("http://testserver", env.admin_key, http=http)


# -- data and real models ---------------------------------------------------------------------

@pytest.fixture(scope="session")
def cancer() -> pd.DataFrame:
    """Breast-cancer data (30 float features + `target`), shipped with scikit-learn."""
    from sklearn.datasets import load_breast_cancer

    frame: pd.DataFrame = load_breast_cancer(as_frame=True).frame
    return frame


@pytest.fixture(scope="session")
def cancer_features(cancer: pd.DataFrame) -> pd.DataFrame:
    """Only the 30 features, float32."""
    return cancer.drop(columns=["target"]).astype("float32")


@pytest.fixture(scope="session")
def cancer_lr(cancer: pd.DataFrame) -> object:
    """A fitted StandardScaler + LogisticRegression pipeline."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = cancer.drop(columns=["target"]).to_numpy(dtype="float32")
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    return pipeline.fit(X, cancer["target"])


@pytest.fixture(scope="session")
def cancer_onnx(cancer_lr: object) -> bytes:
    """The pipeline exported to ONNX (zipmap off)."""
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType

    model = to_onnx(cancer_lr, initial_types=[("input", FloatTensorType([None, 30]))],
                    options={"zipmap": False}, target_opset=17)
    return bytes(model.SerializeToString())


@pytest.fixture(scope="session")
def cancer_skops(cancer_lr: object) -> bytes:
    """The pipeline in the safe skops format."""
    import skops.io as sio

    return bytes(sio.dumps(cancer_lr))


@pytest.fixture(scope="session")
def cancer_reference(cancer: pd.DataFrame) -> bytes:
    """Reference data as Parquet bytes (features + target)."""
    buffer = io.BytesIO()
    cancer.to_parquet(buffer, index=False)
    return buffer.getvalue()


RULES_YAML = """
kind: rules
task: classification
classes: ["0", "1"]
rules:
  - when: [{feature: "worst radius", op: gt, value: 16.8}]
    output: "0"
    confidence: 0.9
default: "1"
default_confidence: 0.7
"""


@pytest.fixture(scope="session")
def rules_yaml() -> bytes:
    """A declarative rule model over the cancer features."""
    return RULES_YAML.encode()
