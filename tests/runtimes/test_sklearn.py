"""skops and pickle artifacts: safe loading, trust, and agreement with the fitted model."""

from __future__ import annotations

import operator

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from steward.errors import InvalidInput
from steward.runtimes import load_runtime

from .conftest import Dataset


def test_skops_classifier_matches(logreg: Pipeline, logreg_skops: bytes, cancer: Dataset) -> None:
    rt = load_runtime("skops", logreg_skops, feature_names=cancer.feature_names).runtime
    assert (rt.format, rt.task, rt.classes, rt.n_features) == (
        "skops", "classification", ["0", "1"], 30)
    out = rt.predict(cancer.X)
    assert out["probabilities"].dtype == np.float32
    np.testing.assert_allclose(out["probabilities"], logreg.predict_proba(cancer.X), rtol=1e-6)
    np.testing.assert_array_equal(out["label"], logreg.predict(cancer.X).astype(str))


def test_skops_regressor(linreg: LinearRegression, diabetes: Dataset) -> None:
    rt = load_runtime("skops", sio.dumps(linreg), feature_names=diabetes.feature_names).runtime
    assert (rt.task, rt.classes) == ("regression", None)
    np.testing.assert_allclose(rt.predict(diabetes.X)["prediction"], linreg.predict(diabetes.X))


def test_skops_untrusted_type_refused(cancer: Dataset) -> None:
    model = make_pipeline(FunctionTransformer(operator.neg), StandardScaler(),
                          LogisticRegression(max_iter=1000))
    data = sio.dumps(model.fit(cancer.X, cancer.y))
    with pytest.raises(InvalidInput) as err:
        load_runtime("skops", data, feature_names=cancer.feature_names)
    assert "_operator.neg" in err.value.message
    assert err.value.errors[0].field == "artifact"
    # The caller may vouch for the file explicitly.
    rt = load_runtime("skops", data, feature_names=cancer.feature_names, trusted=True).runtime
    np.testing.assert_allclose(rt.predict(cancer.X)["probabilities"],
                               model.predict_proba(cancer.X), rtol=1e-6)


def test_skops_dangerous_builtin_refused(cancer: Dataset) -> None:
    # "builtins" is allow-listed for data types only; eval must not slip through.
    model = make_pipeline(FunctionTransformer(eval), LogisticRegression())
    with pytest.raises(InvalidInput, match=r"builtins\.eval"):
        load_runtime("skops", sio.dumps(model), feature_names=cancer.feature_names)


def test_skops_frame_fitted_model_reorders_columns(cancer: Dataset) -> None:
    frame = pd.DataFrame(cancer.X, columns=cancer.feature_names)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(frame, cancer.y)
    contract = list(reversed(cancer.feature_names))  # contract order differs from training
    rt = load_runtime("skops", sio.dumps(model), feature_names=contract).runtime
    out = rt.predict(cancer.X[:, ::-1])
    np.testing.assert_allclose(out["probabilities"], model.predict_proba(frame), rtol=1e-6)


def test_pickle_refused_without_trust(logreg_pickle: bytes, cancer: Dataset) -> None:
    with pytest.raises(InvalidInput) as err:
        load_runtime("pickle", logreg_pickle, feature_names=cancer.feature_names)
    assert err.value.errors[0].field == "artifact"
    assert "execute" in err.value.message and "trust" in err.value.message


def test_pickle_accepted_with_trust(logreg: Pipeline, logreg_pickle: bytes,
                                    cancer: Dataset) -> None:
    rt = load_runtime("pickle", logreg_pickle, feature_names=cancer.feature_names,
                      trusted=True).runtime
    assert (rt.format, rt.task, rt.classes) == ("pickle", "classification", ["0", "1"])
    out = rt.predict(cancer.X)
    np.testing.assert_allclose(out["probabilities"], logreg.predict_proba(cancer.X), rtol=1e-6)
    np.testing.assert_array_equal(out["label"], logreg.predict(cancer.X).astype(str))


def test_wrong_input_width(logreg_skops: bytes, cancer: Dataset) -> None:
    rt = load_runtime("skops", logreg_skops, feature_names=cancer.feature_names).runtime
    with pytest.raises(InvalidInput) as err:
        rt.predict(cancer.X[:, :5])
    assert err.value.errors[0].field == "inputs"
