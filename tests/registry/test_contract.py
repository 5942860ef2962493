"""Contracts: inference from data, YAML editing, data contradictions, compatibility."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer

from steward.errors import InvalidInput
from steward.registry.contract import (
    Contract,
    FeatureSpec,
    OutputSpec,
    breaking_changes,
    check_against_data,
    contract_from_yaml,
    contract_to_yaml,
    infer_contract,
)


@pytest.fixture(scope="module")
def cancer() -> pd.DataFrame:
    frame: pd.DataFrame = load_breast_cancer(as_frame=True).frame
    return frame


@pytest.fixture
def mixed() -> pd.DataFrame:
    return pd.DataFrame({
        "age": [25, 32, 47, 51, 25],
        "income": [50000.0, np.nan, 72000.5, 88000.0, 50000.0],
        "segment": ["retail", "sme", None, "retail", "retail"],
        "member": [True, False, True, True, True],
        "email": ["a@x.io", "b@x.io", "c@x.io", "d@x.io", "a@x.io"],
    })


def _errors(exc: pytest.ExceptionInfo[InvalidInput]) -> list[tuple[str, str]]:
    return [(e.field, e.message) for e in exc.value.errors]


# --- inference -----------------------------------------------------------------------------

def test_infers_breast_cancer_contract(cancer: pd.DataFrame) -> None:
    contract = infer_contract(cancer, exclude=["target"])
    assert len(contract.features) == 30
    assert "target" not in contract.feature_names
    radius = contract.features[0]
    assert radius.name == "mean radius"
    assert (radius.dtype, radius.nullable, radius.required) == ("float", False, True)
    assert (radius.min, radius.max) == (None, None)  # out-of-range is OOD, not invalid
    bounded = infer_contract(cancer, exclude=["target"], ranges=True).features[0]
    assert bounded.min == pytest.approx(cancer["mean radius"].min())
    assert bounded.max == pytest.approx(cancer["mean radius"].max())
    check_against_data(contract, cancer)  # data always satisfies its own inferred contract


def test_infers_mixed_frame(mixed: pd.DataFrame) -> None:
    contract = infer_contract(mixed, pii=["email"], protected=["age"], ranges=True)
    by_name = {f.name: f for f in contract.features}
    assert by_name["age"].dtype == "int" and by_name["age"].protected
    assert (by_name["age"].min, by_name["age"].max) == (25.0, 51.0)
    assert by_name["income"].dtype == "float" and by_name["income"].nullable
    assert by_name["segment"].dtype == "string" and by_name["segment"].nullable
    assert by_name["segment"].categories == ["retail", "sme"]
    assert by_name["member"].dtype == "bool" and by_name["member"].categories is None
    assert by_name["email"].pii and by_name["email"].categories is None  # no PII in contracts
    check_against_data(contract, mixed)


def test_object_bool_column_and_category_limit() -> None:
    df = pd.DataFrame({"flag": pd.Series([True, None, False], dtype=object),
                       "code": ["a", "b", "c"]})
    contract = infer_contract(df, max_categories=2)
    assert [(f.dtype, f.nullable) for f in contract.features] == [("bool", True),
                                                                   ("string", False)]
    assert contract.features[1].categories is None


def test_unknown_pii_and_protected_names_are_field_errors(mixed: pd.DataFrame) -> None:
    with pytest.raises(InvalidInput) as info:
        infer_contract(mixed, pii=["ssn"], protected=["race", "age"])
    assert [f for f, _ in _errors(info)] == ["pii", "protected"]
    assert "ssn" in info.value.message and "race" in info.value.message


def test_unsupported_dtype_is_rejected() -> None:
    df = pd.DataFrame({"when": pd.to_datetime(["2024-01-01"]), "x": [1.0]})
    with pytest.raises(InvalidInput, match="when"):
        infer_contract(df)
    assert infer_contract(df, exclude=["when"]).feature_names == ["x"]


# --- model validation and YAML -------------------------------------------------------------

def test_yaml_round_trip_is_terse(mixed: pd.DataFrame) -> None:
    contract = infer_contract(mixed, pii=["email"]).model_copy(update={"outputs": [
        OutputSpec(name="label", dtype="string"),
        OutputSpec(name="probabilities", dtype="float", classes=["no", "yes"])]})
    text = contract_to_yaml(contract)
    assert contract_from_yaml(text) == contract
    assert ": null" not in text and "required" not in text and "description" not in text
    assert text.startswith("task: classification\nfeatures:\n- name: age\n  dtype: int\n")


def test_yaml_round_trip_breast_cancer(cancer: pd.DataFrame) -> None:
    contract = infer_contract(cancer, exclude=["target"])
    assert contract_from_yaml(contract_to_yaml(contract)) == contract


@pytest.mark.parametrize(("text", "fields", "needle"), [
    ("features: [\n  {name: a, dtype: float\n", ["contract"], "line"),
    ("- just\n- a list\n", ["contract"], "mapping"),
    ("", ["contract"], "mapping"),
    ("features:\n- {name: a, dtype: float}\n- {name: b, dtype: int}\n"
     "- {name: c, dtype: decimal}\n", ["features[2].dtype"], "'float', 'int'"),
    ("features:\n- {name: a, dtype: float, colour: red}\n", ["features[0].colour"], "Extra"),
    ("features:\n- {name: a, dtype: float, min: 3, max: 1}\n", ["features[0]"], "greater"),
    ("features:\n- {name: a, dtype: float, categories: [x]}\n", ["features[0]"], "string"),
    ("features:\n- {name: a, dtype: bool, min: 0}\n", ["features[0]"], "min/max"),
    ("features:\n- {name: a, dtype: int}\n- {name: a, dtype: int}\n", ["features"],
     "duplicate"),
    ("features: []\n", ["features"], "at least one"),
    ("task: ranking\nfeatures:\n- {dtype: int}\n", ["task", "features[0].name"], "ranking"),
    ("features:\n- {name: a, dtype: int}\noutputs:\n- {name: y}\n", ["outputs[0].dtype"],
     "required"),
])
def test_yaml_errors_name_field_paths(text: str, fields: list[str], needle: str) -> None:
    with pytest.raises(InvalidInput) as info:
        contract_from_yaml(text)
    assert [f for f, _ in _errors(info)] == fields
    assert needle in info.value.message


def test_model_validators_run_in_python_too() -> None:
    with pytest.raises(ValueError, match="categories only apply"):
        FeatureSpec(name="x", dtype="int", categories=["1"])


# --- data contradictions -------------------------------------------------------------------

def test_every_contradiction_is_its_own_field_error(mixed: pd.DataFrame) -> None:
    contract = Contract(features=[
        FeatureSpec(name="age", dtype="int", min=30, max=50),       # 25, 25 below; 51 above
        FeatureSpec(name="income", dtype="int"),                     # 72000.5, and a null
        FeatureSpec(name="segment", dtype="string", nullable=True, categories=["retail"]),
        FeatureSpec(name="member", dtype="bool"),
        FeatureSpec(name="email", dtype="float", nullable=True),     # strings
        FeatureSpec(name="tenure", dtype="int"),                     # missing, required
        FeatureSpec(name="notes", dtype="string", required=False),   # missing, optional: fine
    ])
    with pytest.raises(InvalidInput) as info:
        check_against_data(contract, mixed)
    errors = _errors(info)
    assert [f for f, _ in errors] == [
        "contract.features[age]", "contract.features[age]",
        "contract.features[income]", "contract.features[income]",
        "contract.features[segment]", "contract.features[email]", "contract.features[tenure]",
    ]
    messages = [m for _, m in errors]
    assert "2 values are below min 30" in messages[0]
    assert "1 values are above max 50" in messages[1]
    assert "1 of 4 values are not" in messages[2]
    assert "1 values are missing" in messages[3]
    assert "'sme'" in messages[4]
    assert "5 of 5 values are not" in messages[5]
    assert "missing from the data" in messages[6]


def test_integral_floats_satisfy_an_int_feature() -> None:
    df = pd.DataFrame({"n": [1.0, 2.0, np.nan]})
    check_against_data(Contract(features=[FeatureSpec(name="n", dtype="int", nullable=True)]), df)


def test_mixed_object_column_checks_each_value() -> None:
    df = pd.DataFrame({"x": pd.Series([1.5, "2.5", "abc", True], dtype=object)})
    with pytest.raises(InvalidInput, match="2 of 4 values are not"):
        check_against_data(Contract(features=[FeatureSpec(name="x", dtype="float")]), df)


def test_numbers_are_not_strings() -> None:
    df = pd.DataFrame({"s": [1, 2]})
    with pytest.raises(InvalidInput, match="dtype is string"):
        check_against_data(Contract(features=[FeatureSpec(name="s", dtype="string")]), df)


# --- breaking changes ----------------------------------------------------------------------

def _c(*features: FeatureSpec, outputs: tuple[OutputSpec, ...] = ()) -> Contract:
    return Contract(features=list(features), outputs=list(outputs))


BASE = _c(
    FeatureSpec(name="x", dtype="int", min=0, max=10, nullable=True),
    FeatureSpec(name="s", dtype="string", categories=["a", "b"]),
    FeatureSpec(name="opt", dtype="float", required=False),
    outputs=(OutputSpec(name="label", dtype="string"),
             OutputSpec(name="proba", dtype="float", classes=["a", "b"])),
)


def _change(feature: str, **update: object) -> Contract:
    features = [f.model_copy(update=update) if f.name == feature else f for f in BASE.features]
    return BASE.model_copy(update={"features": features})


def test_compatible_change_has_no_breaking_changes() -> None:
    new = _c(
        FeatureSpec(name="x", dtype="float", min=-5, max=None, nullable=True),  # widened
        FeatureSpec(name="s", dtype="string", categories=["a", "b", "c"]),       # added category
        FeatureSpec(name="extra", dtype="bool", required=False),                 # new optional
        outputs=(*BASE.outputs, OutputSpec(name="score", dtype="float")),        # new output
    )
    assert breaking_changes(BASE, new) == []
    assert breaking_changes(BASE, BASE) == []


@pytest.mark.parametrize(("new", "needle"), [
    (_c(*BASE.features, FeatureSpec(name="new", dtype="int"), outputs=BASE.outputs),
     "new required feature 'new'"),
    (_change("opt", required=True), "feature 'opt' became required"),
    (_change("opt", dtype="int"), "dtype narrowed from float to int"),
    (_change("s", dtype="int", categories=None), "dtype narrowed from string to int"),
    (_change("x", dtype="bool", min=None, max=None), "dtype narrowed from int to bool"),
    (_change("x", min=1.0), "min raised from 0 to 1"),
    (_change("x", max=9.0), "max lowered from 10 to 9"),
    (_change("opt", min=0.0), "min raised from unbounded to 0"),
    (_change("s", categories=["a"]), "categories removed: b"),
    (_change("s", categories=None).model_copy(), ""),  # widening to any value is fine
    (_change("x", nullable=False), "no longer nullable"),
    (BASE.model_copy(update={"outputs": BASE.outputs[1:]}), "output 'label' removed"),
    (BASE.model_copy(update={"outputs": [BASE.outputs[0], OutputSpec(
        name="proba", dtype="float", classes=["b", "a"])]}), "output 'proba': classes changed"),
    (BASE.model_copy(update={"task": "regression"}), "task changed"),
])
def test_each_breaking_rule(new: Contract, needle: str) -> None:
    changes = breaking_changes(BASE, new)
    if not needle:
        assert changes == []
    else:
        assert len(changes) == 1 and needle in changes[0], changes


def test_categories_introduced_on_free_text_is_breaking() -> None:
    old = _c(FeatureSpec(name="s", dtype="string"))
    new = _c(FeatureSpec(name="s", dtype="string", categories=["a"]))
    assert breaking_changes(old, new) == [
        "feature 's': any value was accepted, now only the listed categories"]
