"""Real models trained on sklearn's bundled datasets, serialised in every supported format."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import joblib
import lightgbm
import numpy as np
import numpy.typing as npt
import pytest
import skops.io as sio
import xgboost
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler


@dataclass(frozen=True)
class Dataset:
    """Features, target and the contract's feature names."""

    X: npt.NDArray[np.float64]
    y: npt.NDArray[Any]
    feature_names: list[str]


@pytest.fixture(scope="session")
def cancer() -> Dataset:
    """Breast cancer: 569 rows, 30 features, binary target."""
    bunch = load_breast_cancer()
    return Dataset(bunch.data, bunch.target, [str(n) for n in bunch.feature_names])


@pytest.fixture(scope="session")
def diabetes() -> Dataset:
    """Diabetes: 442 rows, 10 features, continuous target."""
    bunch = load_diabetes()
    return Dataset(bunch.data, bunch.target, [str(n) for n in bunch.feature_names])


@pytest.fixture(scope="session")
def logreg(cancer: Dataset) -> Pipeline:
    """Scaled logistic regression on the cancer data."""
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    return model.fit(cancer.X, cancer.y)


@pytest.fixture(scope="session")
def logreg_onnx(logreg: Pipeline) -> bytes:
    """The logistic regression converted to ONNX with zipmap disabled."""
    onx = convert_sklearn(logreg, initial_types=[("input", FloatTensorType([None, 30]))],
                          options={id(logreg): {"zipmap": False}})
    return bytes(onx.SerializeToString())


@pytest.fixture(scope="session")
def logreg_skops(logreg: Pipeline) -> bytes:
    """The logistic regression as a skops file."""
    return bytes(sio.dumps(logreg))


@pytest.fixture(scope="session")
def logreg_pickle(logreg: Pipeline) -> bytes:
    """The logistic regression as a joblib pickle."""
    buf = io.BytesIO()
    joblib.dump(logreg, buf)
    return buf.getvalue()


@pytest.fixture(scope="session")
def linreg(diabetes: Dataset) -> LinearRegression:
    """Linear regression on the diabetes data."""
    return LinearRegression().fit(diabetes.X, diabetes.y)


@pytest.fixture(scope="session")
def linreg_onnx(linreg: LinearRegression) -> bytes:
    """The linear regression converted to ONNX."""
    onx = convert_sklearn(linreg, initial_types=[("input", FloatTensorType([None, 10]))])
    return bytes(onx.SerializeToString())


@pytest.fixture(scope="session")
def xgb_classifier(cancer: Dataset) -> xgboost.XGBClassifier:
    """A ten-tree XGBoost classifier."""
    return xgboost.XGBClassifier(n_estimators=10, max_depth=3).fit(cancer.X, cancer.y)


@pytest.fixture(scope="session")
def xgb_classifier_json(xgb_classifier: xgboost.XGBClassifier) -> bytes:
    """Its booster as an XGBoost JSON model."""
    return bytes(xgb_classifier.get_booster().save_raw("json"))


@pytest.fixture(scope="session")
def xgb_regressor(diabetes: Dataset) -> xgboost.XGBRegressor:
    """A ten-tree XGBoost regressor."""
    return xgboost.XGBRegressor(n_estimators=10, max_depth=3).fit(diabetes.X, diabetes.y)


@pytest.fixture(scope="session")
def xgb_regressor_ubj(xgb_regressor: xgboost.XGBRegressor) -> bytes:
    """Its booster as a UBJSON model."""
    return bytes(xgb_regressor.get_booster().save_raw("ubj"))


@pytest.fixture(scope="session")
def lgbm_classifier(cancer: Dataset) -> lightgbm.LGBMClassifier:
    """A small LightGBM classifier."""
    model = lightgbm.LGBMClassifier(n_estimators=10, num_leaves=8, verbose=-1)
    return model.fit(cancer.X, cancer.y)


@pytest.fixture(scope="session")
def lgbm_classifier_txt(lgbm_classifier: lightgbm.LGBMClassifier) -> bytes:
    """Its booster as a LightGBM text model."""
    return str(lgbm_classifier.booster_.model_to_string()).encode()


RULES_YAML = b"""\
kind: rules
task: classification
classes: [malignant, benign]
rules:
  - when: [{feature: "worst radius", op: gt, value: 16.8}]
    output: malignant
    confidence: 0.9
  - when:
      - {feature: "worst concave points", op: gt, value: 0.14}
      - {feature: "mean texture", op: ge, value: 18}
    output: malignant
    confidence: 0.8
default: benign
default_confidence: 0.6
"""


@pytest.fixture()
def rules_yaml() -> bytes:
    """A two-rule classifier over the cancer features."""
    return RULES_YAML
