"""Gradient-boosted trees in their native formats: XGBoost (JSON/UBJ) and LightGBM (text)."""

from __future__ import annotations

import json

import numpy as np
import numpy.typing as npt

from steward.errors import InvalidInput
from steward.runtimes.base import (
    CLASSIFICATION,
    REGRESSION,
    artifact_error,
    check_input,
    check_width,
    classify,
    resolve_classes,
    two_columns,
)
from steward.runtimes.isolation import probe_native

# Objectives whose raw output is a probability (or a margin we can turn into one).
_XGB_PROBA = frozenset({"binary:logistic", "multi:softprob"})
_XGB_MARGIN = frozenset({"binary:logitraw", "multi:softmax"})  # softmax only emits the argmax
_LGB_CLASSIFIERS = frozenset({"binary", "multiclass", "multiclassova"})
# Objectives that emit hard labels with no way back to a probability.
_XGB_REFUSED = frozenset({"binary:hinge"})


def _numeric(X: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
    """X as numbers: callers may pass object arrays, which the boosters cannot read."""
    if X.dtype.kind in "biuf":
        return X
    try:
        return X.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"inputs must be numeric for this model: {exc}",
                           field="inputs") from exc


def _softmax(margin: npt.NDArray[np.floating]) -> npt.NDArray[np.float32]:
    """Row-wise softmax, shifted by the row max so large margins do not overflow."""
    z = np.exp(margin - margin.max(axis=1, keepdims=True))
    return np.asarray(z / z.sum(axis=1, keepdims=True), dtype=np.float32)


def _task(fmt: str, classifier: bool, num_class: int, classes: list[str] | None
          ) -> tuple[str, list[str] | None, npt.NDArray[np.str_]]:
    """(task, class names, label array) from a booster's objective; binary has 2 classes."""
    if not classifier:
        return REGRESSION, None, np.asarray([], dtype=np.str_)
    names = resolve_classes(fmt, classes, None, num_class if num_class > 1 else 2)
    return CLASSIFICATION, names, np.asarray(names)


class XGBoostRuntime:
    """An `xgboost.Booster`, predicted with `inplace_predict` to skip building a DMatrix."""

    format = "xgboost"

    def __init__(self, data: bytes, *, feature_names: list[str],
                 classes: list[str] | None = None) -> None:
        import xgboost

        # Both encodings are one top-level object; most truncations fail this cheaply.
        if not data.rstrip().endswith(b"}"):
            raise artifact_error("xgboost", "the model is truncated (no closing brace)")
        probe_native("xgboost", data, len(feature_names))
        try:
            booster = xgboost.Booster()
            # bytearray tells xgboost the bytes are a model buffer, not a file name.
            booster.load_model(bytearray(data))
            config = json.loads(booster.save_config())
            objective = str(config["learner"]["objective"]["name"])
            num_class = int(config["learner"]["learner_model_param"]["num_class"])
        except Exception as exc:  # XGBoostError, or a config missing the keys above
            raise artifact_error("xgboost", exc) from exc
        if objective in _XGB_REFUSED:
            raise artifact_error("xgboost", f"objective {objective} gives no probabilities")
        # One thread per request, as for ONNX: many small concurrent requests.
        booster.set_param({"nthread": 1})
        self._booster = booster
        self.objective = objective
        self.n_features: int | None = booster.num_features()
        self._width = check_width("xgboost", self.n_features, feature_names)
        self._margin = objective in _XGB_MARGIN
        self.task, self.classes, self._labels = _task(
            "xgboost", objective in _XGB_PROBA or self._margin, num_class, classes)

    def predict(self, X: npt.NDArray[np.generic]) -> dict[str, npt.NDArray[np.generic]]:
        """One `inplace_predict`; margins become probabilities via sigmoid/softmax."""
        check_input(X, self._width)
        out = np.asarray(self._booster.inplace_predict(
            _numeric(X), predict_type="margin" if self._margin else "value"))
        if self.task == REGRESSION:
            return {"prediction": out.reshape(-1)}
        if out.ndim == 1:
            p = 1.0 / (1.0 + np.exp(-out)) if self._margin else out
            return classify(self._labels, two_columns(p))
        return classify(self._labels, _softmax(out) if self._margin else out)


def _lgb_checked_text(data: bytes) -> str:
    """The model text, checked for completeness and with its `tree_sizes` line removed.

    With `tree_sizes` LightGBM parses trees in parallel, and a parse error inside that
    OpenMP region calls std::terminate: a corrupt upload would kill the server process.
    Without it LightGBM parses sequentially and raises a catchable LightGBMError. And a
    file truncated between trees loads "successfully" with fewer trees, so the tree
    count is checked against the header before the line is dropped.
    """
    text = data.decode("utf-8")
    if not text.startswith("tree"):
        raise ValueError('a LightGBM text model starts with "tree"')
    body, sep, _ = text.partition("\nend of trees")
    if not sep:
        raise ValueError('the model is truncated (no "end of trees" marker)')
    header, _, trees = body.partition("\nTree=")
    kept: list[str] = []
    for line in header.splitlines():
        if line.startswith("tree_sizes="):
            expected = len(line.split("=", 1)[1].split())
            found = 1 + trees.count("\nTree=") if trees else 0
            if expected != found:
                raise ValueError(f"the header lists {expected} trees but {found} are present")
        else:
            kept.append(line)
    return text.replace(header, "\n".join(kept), 1)


def _lgb_objective(params: dict[str, object], data: bytes) -> tuple[str, int]:
    """Objective name and class count, from the saved parameters or else the model header
    (files written without their parameters section still carry `objective=`)."""
    objective = params.get("objective")
    num_class = params.get("num_class")
    if objective is None or num_class is None:
        header = data.split(b"\nTree=", 1)[0].decode("utf-8", "replace").splitlines()
        fields = dict(line.split("=", 1) for line in header if "=" in line)
        objective = objective or fields.get("objective", "regression")
        num_class = num_class or fields.get("num_class", "1")
    # The header spells it "binary sigmoid:1"; only the first word names the objective.
    return str(objective).split()[0], int(str(num_class))


class LightGBMRuntime:
    """A `lightgbm.Booster` rebuilt from its text model."""

    format = "lightgbm"

    def __init__(self, data: bytes, *, feature_names: list[str],
                 classes: list[str] | None = None) -> None:
        import lightgbm

        try:
            text = _lgb_checked_text(data)
        except ValueError as exc:  # also UnicodeDecodeError
            raise artifact_error("lightgbm", exc) from exc
        probe_native("lightgbm", text.encode("utf-8"), len(feature_names))
        try:
            booster = lightgbm.Booster(model_str=text)
        except Exception as exc:  # LightGBMError
            raise artifact_error("lightgbm", exc) from exc
        self._booster = booster
        self.objective, num_class = _lgb_objective(booster.params, data)
        self.n_features: int | None = booster.num_feature()
        self._width = check_width("lightgbm", self.n_features, feature_names)
        self.task, self.classes, self._labels = _task(
            "lightgbm", self.objective in _LGB_CLASSIFIERS, num_class, classes)

    def predict(self, X: npt.NDArray[np.generic]) -> dict[str, npt.NDArray[np.generic]]:
        """One `Booster.predict` on a single thread (small requests, many in parallel)."""
        check_input(X, self._width)
        out = np.asarray(self._booster.predict(_numeric(X), num_threads=1))
        if self.task == REGRESSION:
            return {"prediction": out.reshape(-1)}
        return classify(self._labels, two_columns(out) if out.ndim == 1 else out)
