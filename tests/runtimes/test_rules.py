"""YAML rule models: hand-computed predictions and validation errors with field paths."""

from __future__ import annotations

import numpy as np
import pytest

from steward.errors import InvalidInput
from steward.runtimes import Runtime, load_runtime

from .conftest import RULES_YAML, Dataset

FEATURES = ["age", "income", "segment"]


def _load(yaml_text: str, features: list[str] = FEATURES) -> Runtime:
    return load_runtime("rules", yaml_text.encode(), feature_names=features).runtime


def _field_errors(yaml_text: str) -> dict[str, str]:
    with pytest.raises(InvalidInput) as err:
        _load(yaml_text)
    return {e.field: e.message for e in err.value.errors}


def test_cancer_rules_hand_computed(rules_yaml: bytes, cancer: Dataset) -> None:
    rt = load_runtime("rules", rules_yaml, feature_names=cancer.feature_names).runtime
    assert (rt.format, rt.task, rt.classes, rt.n_features) == (
        "rules", "classification", ["malignant", "benign"], 30)
    out = rt.predict(cancer.X)
    col = {n: cancer.X[:, i] for i, n in enumerate(cancer.feature_names)}
    first = col["worst radius"] > 16.8
    second = ~first & (col["worst concave points"] > 0.14) & (col["mean texture"] >= 18)
    expected = np.where(first | second, "malignant", "benign")
    np.testing.assert_array_equal(out["label"], expected)
    p_malignant = np.select([first, second], [0.9, 0.8], default=0.4)
    np.testing.assert_allclose(out["probabilities"][:, 0], p_malignant, rtol=1e-6)
    np.testing.assert_allclose(out["probabilities"].sum(axis=1), 1.0, rtol=1e-6)
    assert out["probabilities"].dtype == np.float32


def test_all_ops_and_first_match_wins() -> None:
    rt = load_runtime("rules", b"""
kind: rules
task: classification
classes: [a, b, c]
rules:
  - when: [{feature: age, op: is_null}]
    output: c
    confidence: 0.5
  - when: [{feature: age, op: lt, value: 18}, {feature: income, op: in, value: [1, 2]}]
    output: a
  - when: [{feature: age, op: le, value: 30}, {feature: segment, op: not_in, value: [5]}]
    output: b
  - when: [{feature: age, op: eq, value: 40}]
    output: a
  - when: [{feature: age, op: ne, value: 40}, {feature: income, op: ge, value: 100}]
    output: b
default: c
default_confidence: 0.4
""", feature_names=FEATURES).runtime
    X = np.array([
        [np.nan, 1, 0],   # is_null -> c (0.5)
        [10, 2, 0],       # lt & in -> a
        [10, 3, 0],       # not rule 2 (income 3); rule 3 -> b
        [25, 3, 5],       # segment 5 excluded -> rule 4? no -> rule 5? income 3 -> default c
        [40, 0, 0],       # eq -> a
        [50, 100, 0],     # ne & ge -> b
        [50, np.nan, 0],  # ge on a missing value never matches -> default
    ])
    out = rt.predict(X)
    np.testing.assert_array_equal(out["label"], ["c", "a", "b", "c", "a", "b", "c"])
    np.testing.assert_allclose(out["probabilities"][0], [0.25, 0.25, 0.5])
    np.testing.assert_allclose(out["probabilities"][1], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(out["probabilities"][3], [0.3, 0.3, 0.4], rtol=1e-6)


def test_regression_rules() -> None:
    rt = _load("""
kind: rules
task: regression
rules:
  - when: [{feature: income, op: gt, value: 50}]
    output: 2.5
default: 1
""")
    out = rt.predict(np.array([[1.0, 60.0, 0.0], [1.0, 10.0, 0.0]]))
    np.testing.assert_array_equal(out["prediction"], [2.5, 1.0])


BASE = """
kind: rules
task: classification
classes: [yes, no]
default: no
rules:
  - when: [{feature: age, op: gt, value: 1}]
    output: yes
  - when: [{feature: age, op: gt, value: 1}]
    output: yes
"""


def test_unknown_feature_names_the_path() -> None:
    errors = _field_errors(BASE + """  - when: [{feature: height, op: gt, value: 1}]
    output: yes
""")
    assert "rules[2].when[0].feature" in errors
    assert "height" in errors["rules[2].when[0].feature"]


def test_unknown_op_names_the_path() -> None:
    errors = _field_errors(BASE + """  - when:
      - {feature: age, op: gt, value: 1}
      - {feature: age, op: between}
    output: yes
""")
    assert set(errors) == {"rules[2].when[1].op"}


def test_output_not_in_classes() -> None:
    errors = _field_errors(BASE + """  - when: [{feature: age, op: gt, value: 1}]
    output: maybe
""")
    assert "maybe" in errors["rules[2].output"]


def test_value_must_fit_op_and_default_required() -> None:
    errors = _field_errors("""
kind: rules
task: classification
classes: [yes, no]
rules:
  - when: [{feature: age, op: gt, value: high}]
    output: yes
    confidence: 1.5
""")
    assert {"rules[0].when[0].value", "rules[0].confidence", "default"} <= set(errors)


def test_misspelt_key_refused() -> None:
    errors = _field_errors(BASE.replace("output: yes", "output: yes\n    confidance: 0.5", 1))
    assert "rules[0].confidance" in errors


def test_invalid_yaml_refused() -> None:
    with pytest.raises(InvalidInput, match="rules") as err:
        _load("kind: rules\nrules: [unclosed")
    assert err.value.errors[0].field == "artifact"


def test_classes_argument_must_agree(cancer: Dataset) -> None:
    with pytest.raises(InvalidInput) as err:
        load_runtime("rules", RULES_YAML, feature_names=cancer.feature_names,
                     classes=["benign", "malignant"])
    assert err.value.errors[0].field == "classes"


def test_wrong_input_width(rules_yaml: bytes, cancer: Dataset) -> None:
    rt = load_runtime("rules", rules_yaml, feature_names=cancer.feature_names).runtime
    with pytest.raises(InvalidInput) as err:
        rt.predict(cancer.X[:, :4])
    assert err.value.errors[0].field == "inputs"
