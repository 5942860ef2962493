"""XGBoost and LightGBM native models against the estimators that wrote them."""

from __future__ import annotations

import lightgbm
import numpy as np
import pytest
import xgboost
from sklearn.datasets import load_iris

from steward.errors import InvalidInput
from steward.runtimes import load_runtime

from .conftest import Dataset


def test_xgboost_classifier_matches(xgb_classifier: xgboost.XGBClassifier,
                                    xgb_classifier_json: bytes, cancer: Dataset) -> None:
    rt = load_runtime("xgboost", xgb_classifier_json, feature_names=cancer.feature_names,
                      classes=["malignant", "benign"]).runtime
    assert (rt.format, rt.task, rt.classes, rt.n_features) == (
        "xgboost", "classification", ["malignant", "benign"], 30)
    out = rt.predict(cancer.X)
    assert out["probabilities"].shape == (569, 2)
    assert out["probabilities"].dtype == np.float32
    np.testing.assert_allclose(out["probabilities"], xgb_classifier.predict_proba(cancer.X),
                               rtol=1e-6)
    expected = np.asarray(["malignant", "benign"])[xgb_classifier.predict(cancer.X)]
    np.testing.assert_array_equal(out["label"], expected)


def test_xgboost_regressor_ubj(xgb_regressor: xgboost.XGBRegressor, xgb_regressor_ubj: bytes,
                               diabetes: Dataset) -> None:
    rt = load_runtime("xgboost", xgb_regressor_ubj, feature_names=diabetes.feature_names).runtime
    assert (rt.task, rt.classes, rt.n_features) == ("regression", None, 10)
    out = rt.predict(diabetes.X)
    assert out["prediction"].shape == (442,)
    np.testing.assert_allclose(out["prediction"], xgb_regressor.predict(diabetes.X), rtol=1e-6)


@pytest.mark.parametrize("objective", ["multi:softprob", "multi:softmax"])
def test_xgboost_multiclass(objective: str) -> None:
    X, y = load_iris(return_X_y=True)
    model = xgboost.XGBClassifier(n_estimators=5, objective=objective).fit(X, y)
    data = bytes(model.get_booster().save_raw("json"))
    rt = load_runtime("xgboost", data, feature_names=["a", "b", "c", "d"]).runtime
    out = rt.predict(X)
    assert rt.classes == ["0", "1", "2"]
    np.testing.assert_array_equal(out["label"], model.predict(X).astype(str))
    np.testing.assert_allclose(out["probabilities"].sum(axis=1), 1.0, rtol=1e-5)
    if objective == "multi:softprob":
        np.testing.assert_allclose(out["probabilities"], model.predict_proba(X), rtol=1e-5)


def test_lightgbm_classifier_matches(lgbm_classifier: lightgbm.LGBMClassifier,
                                     lgbm_classifier_txt: bytes, cancer: Dataset) -> None:
    rt = load_runtime("lightgbm", lgbm_classifier_txt, feature_names=cancer.feature_names).runtime
    assert (rt.format, rt.task, rt.classes, rt.n_features) == (
        "lightgbm", "classification", ["0", "1"], 30)
    out = rt.predict(cancer.X)
    assert out["probabilities"].shape == (569, 2)
    assert out["probabilities"].dtype == np.float32
    np.testing.assert_allclose(out["probabilities"], lgbm_classifier.predict_proba(cancer.X),
                               rtol=1e-5)
    np.testing.assert_array_equal(out["label"], lgbm_classifier.predict(cancer.X).astype(str))


def test_lightgbm_regressor(diabetes: Dataset) -> None:
    model = lightgbm.LGBMRegressor(n_estimators=10, num_leaves=8, verbose=-1)
    model.fit(diabetes.X, diabetes.y)
    data = str(model.booster_.model_to_string()).encode()
    rt = load_runtime("lightgbm", data, feature_names=diabetes.feature_names).runtime
    assert rt.task == "regression"
    np.testing.assert_allclose(rt.predict(diabetes.X)["prediction"], model.predict(diabetes.X))


def test_lightgbm_multiclass() -> None:
    X, y = load_iris(return_X_y=True)
    model = lightgbm.LGBMClassifier(n_estimators=5, num_leaves=4, verbose=-1).fit(X, y)
    data = str(model.booster_.model_to_string()).encode()
    rt = load_runtime("lightgbm", data, feature_names=["a", "b", "c", "d"]).runtime
    out = rt.predict(X)
    assert out["probabilities"].shape == (150, 3)
    np.testing.assert_allclose(out["probabilities"], model.predict_proba(X), rtol=1e-5)


@pytest.mark.parametrize("fmt", ["xgboost", "lightgbm"])
def test_wrong_input_width(fmt: str, xgb_classifier_json: bytes, lgbm_classifier_txt: bytes,
                           cancer: Dataset) -> None:
    data = xgb_classifier_json if fmt == "xgboost" else lgbm_classifier_txt
    rt = load_runtime(fmt, data, feature_names=cancer.feature_names).runtime
    with pytest.raises(InvalidInput) as err:
        rt.predict(cancer.X[:, :3])
    assert err.value.errors[0].field == "inputs"


@pytest.mark.parametrize("fraction", [0.2, 0.3, 0.5, 0.7, 0.9])
def test_truncated_native_models_refused_without_crashing(
        fraction: float, lgbm_classifier_txt: bytes, xgb_regressor_ubj: bytes,
        cancer: Dataset, diabetes: Dataset) -> None:
    # A truncated LightGBM file used to abort the process (std::terminate in its parallel
    # parser) or load silently with fewer trees; both must be a clean InvalidInput.
    cut = lgbm_classifier_txt[: int(len(lgbm_classifier_txt) * fraction)]
    with pytest.raises(InvalidInput, match="lightgbm"):
        load_runtime("lightgbm", cut, feature_names=cancer.feature_names)
    cut = xgb_regressor_ubj[: int(len(xgb_regressor_ubj) * fraction)]
    with pytest.raises(InvalidInput, match="xgboost"):
        load_runtime("xgboost", cut, feature_names=diabetes.feature_names)


def test_lightgbm_tree_count_checked(lgbm_classifier_txt: bytes, cancer: Dataset) -> None:
    text = lgbm_classifier_txt.decode()
    head, _, rest = text.partition("\nTree=1\n")
    _, _, tail = rest.partition("\n\n\n")  # drop one whole tree block
    with pytest.raises(InvalidInput, match="trees"):
        load_runtime("lightgbm", (head + "\n" + tail).encode(),
                     feature_names=cancer.feature_names)


def test_object_inputs_are_read_as_numbers(xgb_classifier_json: bytes, cancer: Dataset) -> None:
    rt = load_runtime("xgboost", xgb_classifier_json, feature_names=cancer.feature_names).runtime
    as_objects = cancer.X[:4].astype(object)
    np.testing.assert_array_equal(rt.predict(as_objects)["label"],
                                  rt.predict(cancer.X[:4])["label"])
    as_objects[0, 0] = "not a number"
    with pytest.raises(InvalidInput) as err:
        rt.predict(as_objects)
    assert err.value.errors[0].field == "inputs"
