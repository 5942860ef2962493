"""ONNX runtime against the sklearn models it was converted from."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import Pipeline

from steward.errors import InvalidInput
from steward.runtimes import Runtime, load_runtime

from .conftest import Dataset


def test_classifier_matches_sklearn(logreg: Pipeline, logreg_onnx: bytes, cancer: Dataset) -> None:
    rt = load_runtime("onnx", logreg_onnx, feature_names=cancer.feature_names).runtime
    assert isinstance(rt, Runtime)
    assert (rt.format, rt.task, rt.classes, rt.n_features) == (
        "onnx", "classification", ["0", "1"], 30)
    out = rt.predict(cancer.X)
    assert out["label"].shape == (569,)
    assert out["probabilities"].shape == (569, 2)
    assert out["probabilities"].dtype == np.float32
    np.testing.assert_allclose(out["probabilities"], logreg.predict_proba(cancer.X), atol=1e-4)
    np.testing.assert_array_equal(out["label"], logreg.predict(cancer.X).astype(str))


def test_classes_argument_names_the_columns(logreg_onnx: bytes, cancer: Dataset) -> None:
    rt = load_runtime("onnx", logreg_onnx, feature_names=cancer.feature_names,
                      classes=["malignant", "benign"]).runtime
    out = rt.predict(cancer.X[:5])
    assert rt.classes == ["malignant", "benign"]
    assert set(out["label"]) <= {"malignant", "benign"}


def test_classes_argument_of_wrong_length(logreg_onnx: bytes, cancer: Dataset) -> None:
    with pytest.raises(InvalidInput) as err:
        load_runtime("onnx", logreg_onnx, feature_names=cancer.feature_names, classes=["a"])
    assert err.value.errors[0].field == "classes"


def test_regressor_matches_sklearn(linreg: LinearRegression, linreg_onnx: bytes,
                                   diabetes: Dataset) -> None:
    rt = load_runtime("onnx", linreg_onnx, feature_names=diabetes.feature_names).runtime
    assert (rt.task, rt.classes, rt.n_features) == ("regression", None, 10)
    out = rt.predict(diabetes.X)
    assert set(out) == {"prediction"}
    assert out["prediction"].shape == (442,)
    assert out["prediction"].dtype == np.float32
    np.testing.assert_allclose(out["prediction"], linreg.predict(diabetes.X), rtol=1e-4)


def test_wrong_input_width(logreg_onnx: bytes, cancer: Dataset) -> None:
    rt = load_runtime("onnx", logreg_onnx, feature_names=cancer.feature_names).runtime
    with pytest.raises(InvalidInput) as err:
        rt.predict(cancer.X[:, :29])
    assert err.value.errors[0].field == "inputs"
    with pytest.raises(InvalidInput):
        rt.predict(cancer.X[0])


def test_contract_width_mismatch(logreg_onnx: bytes, cancer: Dataset) -> None:
    with pytest.raises(InvalidInput) as err:
        load_runtime("onnx", logreg_onnx, feature_names=cancer.feature_names[:10])
    assert err.value.errors[0].field == "feature_names"


def test_load_reports_cost(logreg_onnx: bytes, cancer: Dataset) -> None:
    loaded = load_runtime("onnx", logreg_onnx, feature_names=cancer.feature_names)
    assert loaded.cold_start_ms > 0
    assert loaded.memory_bytes >= 0
