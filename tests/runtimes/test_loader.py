"""Format detection, corrupt artifacts and load measurements across every format."""

from __future__ import annotations

import pytest

from steward.errors import InvalidInput
from steward.runtimes import FORMATS, detect_format, load_runtime

from .conftest import RULES_YAML, Dataset

ARTIFACT_FIXTURES = {
    "onnx": "logreg_onnx",
    "skops": "logreg_skops",
    "xgboost": "xgb_classifier_json",
    "lightgbm": "lgbm_classifier_txt",
    "pickle": "logreg_pickle",
}


@pytest.fixture()
def artifacts(request: pytest.FixtureRequest) -> dict[str, bytes]:
    """Every format's artifact for the cancer classifier."""
    found = {fmt: request.getfixturevalue(name) for fmt, name in ARTIFACT_FIXTURES.items()}
    found["rules"] = RULES_YAML
    return found


@pytest.mark.parametrize(("filename", "fmt"), [
    ("model.onnx", "onnx"), ("model.skops", "skops"), ("model.json", "xgboost"),
    ("model.txt", "lightgbm"), ("model.yaml", "rules"), ("model.PKL", "pickle"),
])
def test_detect_format(filename: str, fmt: str, artifacts: dict[str, bytes]) -> None:
    assert detect_format(filename, artifacts[fmt]) == fmt


def test_detect_other_extensions(xgb_regressor_ubj: bytes, logreg_pickle: bytes,
                                 lgbm_classifier_txt: bytes) -> None:
    assert detect_format("m.ubj", xgb_regressor_ubj) == "xgboost"
    assert detect_format("m.joblib", logreg_pickle) == "pickle"
    assert detect_format("m.pickle", logreg_pickle) == "pickle"
    assert detect_format("m.lgb", lgbm_classifier_txt) == "lightgbm"
    assert detect_format("rules.yml", RULES_YAML) == "rules"
    # No extension: only unambiguous signatures are accepted.
    assert detect_format("model", lgbm_classifier_txt) == "lightgbm"


def test_detect_misnamed_file(logreg_pickle: bytes, logreg_skops: bytes) -> None:
    with pytest.raises(InvalidInput, match="looks like pickle") as err:
        detect_format("model.onnx", logreg_pickle)
    assert err.value.errors[0].field == "artifact"
    with pytest.raises(InvalidInput, match="looks like skops"):
        detect_format("model.yaml", logreg_skops)


def test_detect_unsupported() -> None:
    with pytest.raises(InvalidInput) as err:
        detect_format("model.h5", b"\x89HDF\r\n\x1a\n")
    assert err.value.errors[0].field == "artifact"
    with pytest.raises(InvalidInput):
        detect_format("model.onnx", b"")


@pytest.mark.parametrize("fmt", ["onnx", "skops", "xgboost", "lightgbm", "pickle"])
def test_truncated_artifact(fmt: str, artifacts: dict[str, bytes], cancer: Dataset) -> None:
    data = artifacts[fmt]
    with pytest.raises(InvalidInput) as err:
        load_runtime(fmt, data[: len(data) // 2], feature_names=cancer.feature_names,
                     trusted=True)
    assert err.value.errors[0].field == "artifact"
    assert fmt in err.value.message
    assert "\n" not in err.value.message


@pytest.mark.parametrize("fmt", FORMATS)
def test_garbage_artifact(fmt: str, cancer: Dataset) -> None:
    with pytest.raises(InvalidInput) as err:
        load_runtime(fmt, b"\xff\xfe not a model \x00\x01", feature_names=cancer.feature_names,
                     trusted=True)
    assert err.value.errors[0].field == "artifact"
    assert fmt in err.value.message


def test_unknown_format(cancer: Dataset) -> None:
    with pytest.raises(InvalidInput) as err:
        load_runtime("tensorflow", b"x", feature_names=cancer.feature_names)
    assert err.value.errors[0].field == "format"


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_loads_and_measures(fmt: str, artifacts: dict[str, bytes],
                                         cancer: Dataset) -> None:
    loaded = load_runtime(fmt, artifacts[fmt], feature_names=cancer.feature_names, trusted=True)
    assert loaded.runtime.format == fmt
    assert loaded.runtime.task == "classification"
    assert loaded.cold_start_ms > 0
    assert loaded.memory_bytes >= 0
    out = loaded.runtime.predict(cancer.X[:3])
    assert out["label"].shape == (3,)
    assert out["probabilities"].shape == (3, 2)
