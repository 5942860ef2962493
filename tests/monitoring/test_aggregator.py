"""Exactly-once folding, the commit grace, concurrent folders, the leader lease."""

from __future__ import annotations

import threading
import time

import pandas as pd
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from steward.monitoring import Monitor
from steward.monitoring.aggregates import SCALARS
from steward.monitoring.aggregator import (
    Layouts,
    acquire_lease,
    fold_pass,
    release_lease,
    watermark,
)
from steward.monitoring.tables import MonitorBucket
from steward.predictions.records import encode_records
from steward.predictions.tables import PredictionRecord
from steward.state import AppState
from tests.monitoring.conftest import flush, record
from tests.monitoring.test_quality_api import version_id


def _spool(state: AppState, dep: str, frame: pd.DataFrame, n: int) -> None:
    vid = version_id(state)
    cols = {c: [float(v) for v in frame[c].iloc[:3]] for c in frame}
    state.spool.append(encode_records(
        record(dep, vid, cols, None, ts=time.time() - 600 * (i % 3)) for i in range(n)))
    flush(state)


def _bucket_requests(state: AppState) -> int:
    with state.factory() as session:
        return sum(int.from_bytes(b[:8], "little")
                   for b in session.scalars(select(MonitorBucket.counts)))


def test_fold_is_exactly_once_and_waits_out_the_grace(
        cancer_dep: str, cancer_features: pd.DataFrame, state: AppState) -> None:
    _spool(state, cancer_dep, cancer_features, 40)
    layouts = Layouts()
    assert fold_pass(state.factory, layouts, grace_s=3600) == 0  # not settled yet
    assert fold_pass(state.factory, layouts, grace_s=0, batch=7) == 40
    assert fold_pass(state.factory, layouts, grace_s=0) == 0
    assert _bucket_requests(state) == 40 and SCALARS[0] == "requests"
    with state.factory() as session:
        assert watermark(session) == session.scalar(select(func.max(PredictionRecord.id)))
        assert len(session.scalars(select(MonitorBucket)).all()) == 3  # three minutes


def test_concurrent_folders_never_double_count(
        cancer_dep: str, cancer_features: pd.DataFrame, state: AppState) -> None:
    _spool(state, cancer_dep, cancer_features, 300)
    done: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            done.append(fold_pass(state.factory, Layouts(), grace_s=0, batch=25))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and sum(done) == 300
    assert _bucket_requests(state) == 300


def test_lease_has_one_holder(state: AppState, http: TestClient) -> None:
    """(``http`` runs the app's lifespan, which disposes of the engine afterwards.)"""
    assert acquire_lease(state.factory, "a", 60)
    assert acquire_lease(state.factory, "a", 60)  # renewal
    assert not acquire_lease(state.factory, "b", 60)
    release_lease(state.factory, "a")
    assert acquire_lease(state.factory, "b", 0.0)
    assert acquire_lease(state.factory, "a", 60)  # b's lease had expired


def test_background_loop_folds(cancer_dep: str, cancer_features: pd.DataFrame,
                               state: AppState) -> None:
    _spool(state, cancer_dep, cancer_features, 5)
    settings = state.settings.model_copy(update={"monitor_interval_s": 0.05,
                                                 "monitor_grace_s": 0.0})
    loop = Monitor(state.factory, settings)
    loop.start()
    try:
        for _ in range(400):  # polls for at most ~20 s; not a timing assertion
            if _bucket_requests(state) == 5:
                break
            time.sleep(0.05)
    finally:
        loop.stop()
    assert _bucket_requests(state) == 5
