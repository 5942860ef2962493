"""Declarative YAML rule models: our own small format, so it is parsed and validated here.

No library covers "first matching rule wins, with a confidence" over a feature contract, and
the format is small enough that a pydantic schema plus NumPy masks is the whole engine:

    kind: rules
    task: classification          # or regression
    classes: [malignant, benign]  # classification only
    rules:                        # first match wins
      - when: [{feature: "worst radius", op: gt, value: 16.8}]   # every condition must hold
        output: malignant         # a class name, or a number for regression
        confidence: 0.9           # optional, default 1.0
    default: benign               # required
    default_confidence: 0.6
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from steward.errors import ErrorList, FieldError, InvalidInput
from steward.runtimes.base import CLASSIFICATION, REGRESSION, artifact_error, check_input

Op = Literal["gt", "ge", "lt", "le", "eq", "ne", "in", "not_in", "is_null"]
Scalar = float | str
_ORDERED_OPS = frozenset({"gt", "ge", "lt", "le"})
_COMPARE: dict[str, Callable[[Any, Any], npt.NDArray[np.bool_]]] = {
    "gt": np.greater, "ge": np.greater_equal, "lt": np.less, "le": np.less_equal,
    "eq": np.equal, "ne": np.not_equal,
}


class _Strict(BaseModel):
    # A misspelt key ("confidance") must fail loudly, not silently fall back to a default.
    model_config = ConfigDict(extra="forbid")


class Condition(_Strict):
    """One test on one feature."""

    feature: str
    op: Op
    value: bool | float | str | list[Scalar] | None = None

    @field_validator("value")
    @classmethod
    def _value_fits_op(cls, value: Any, info: ValidationInfo) -> Any:
        op = info.data.get("op")
        is_number = isinstance(value, float) and not isinstance(value, bool)
        if op in _ORDERED_OPS and not is_number:
            raise ValueError(f"op {op} needs a number")
        if op in ("eq", "ne") and not (is_number or isinstance(value, str)):
            raise ValueError(f"op {op} needs a number or a string")
        if op in ("in", "not_in") and not (isinstance(value, list) and value):
            raise ValueError(f"op {op} needs a non-empty list")
        if op == "is_null" and value is not None and not isinstance(value, bool):
            raise ValueError("op is_null takes no value, or true/false")
        return value


class Rule(_Strict):
    """Conditions that must all hold, and what to answer when they do."""

    when: list[Condition] = Field(min_length=1)
    output: Scalar
    confidence: float = Field(1.0, ge=0.0, le=1.0)


class RuleModel(_Strict):
    """The whole YAML document."""

    kind: Literal["rules"]
    task: Literal["classification", "regression"]
    classes: list[str] | None = None
    rules: list[Rule]
    default: Scalar
    default_confidence: float = Field(1.0, ge=0.0, le=1.0)

    @field_validator("classes", mode="before")
    @classmethod
    def _classes_as_text(cls, value: Any) -> Any:
        # YAML reads `classes: [0, 1]` as ints; class names are always strings here.
        if isinstance(value, list):
            return [v if isinstance(v, str) else str(v) for v in value]
        return value


_FIELDS = frozenset(RuleModel.model_fields) | frozenset(Rule.model_fields) | frozenset(
    Condition.model_fields)


def _path(loc: tuple[int | str, ...], *, extra: bool = False) -> str:
    """`("rules", 2, "when", 0, "op")` -> `rules[2].when[0].op`, dropping union-member tags.

    For an unknown key (`extra`) the last part is that key, and it is kept.
    """
    out = ""
    for n, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in _FIELDS or (extra and n == len(loc) - 1):
            out += f".{part}" if out else part
        else:
            break  # pydantic appends the tried union member ("float", "str"): not a field
    return out or "artifact"


def _as_class(value: Scalar) -> str:
    """A rule output as a class name; YAML `1` reads as 1.0 and must match class "1"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class _Compiled:
    """A condition resolved against the contract: column index and typed operands."""

    column: int
    op: str
    value: Any
    numbers: npt.NDArray[np.float64]
    texts: npt.NDArray[np.str_]


def _compile(cond: Condition, position: dict[str, int]) -> _Compiled:
    """Resolve the column and split list operands so numeric columns never meet strings."""
    values = cond.value if isinstance(cond.value, list) else []
    return _Compiled(
        column=position[cond.feature], op=cond.op, value=cond.value,
        numbers=np.asarray([v for v in values if isinstance(v, float)], dtype=np.float64),
        texts=np.asarray([v for v in values if isinstance(v, str)], dtype=np.str_),
    )


def _nulls(col: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
    """Missing values: NaN in float columns, None/NaN in object columns."""
    if col.dtype.kind in "fc":
        return np.asarray(np.isnan(col), dtype=bool)
    if col.dtype.kind == "O":
        import pandas as pd  # vectorised None/NaN test for object arrays

        return np.asarray(pd.isna(col), dtype=bool)
    return np.zeros(col.shape[0], dtype=bool)


def _mask(X: npt.NDArray[Any], c: _Compiled) -> npt.NDArray[np.bool_]:
    """Rows where the condition holds. A missing value satisfies only `is_null`, so a
    gap in the data never triggers a rule by accident (`NaN != 3` would be True)."""
    col = X[:, c.column]
    null = _nulls(col)
    if c.op == "is_null":
        return np.logical_not(null) if c.value is False else null
    numeric = col.dtype.kind in "biuf"
    if c.op in ("in", "not_in"):
        hit = np.isin(col, c.numbers if numeric else np.concatenate(
            (c.numbers.astype(object), c.texts.astype(object))))
        hit = ~hit if c.op == "not_in" else hit
    elif isinstance(c.value, str) and numeric:
        hit = np.full(col.shape[0], c.op == "ne")  # a string never equals a number
    else:
        hit = np.asarray(_COMPARE[c.op](col, c.value), dtype=bool)
    return hit & ~null


class RulesRuntime:
    """Evaluates a `RuleModel` with one boolean mask per rule, never a per-row loop."""

    format = "rules"

    def __init__(self, data: bytes, *, feature_names: list[str],
                 classes: list[str] | None = None) -> None:
        model = _parse(data, feature_names)
        self.task: str = model.task
        self.n_features: int | None = len(feature_names)
        position = {name: i for i, name in enumerate(feature_names)}
        self._rules = [[_compile(c, position) for c in r.when] for r in model.rules]
        outputs = [r.output for r in model.rules] + [model.default]
        if model.task == CLASSIFICATION:
            assert model.classes is not None  # _parse guarantees it
            if classes is not None and [str(c) for c in classes] != model.classes:
                raise InvalidInput(
                    f"classes {classes} differ from the rule model's {model.classes}",
                    field="classes",
                )
            self.classes: list[str] | None = model.classes
            self._labels = np.asarray(model.classes)
            index = {name: i for i, name in enumerate(model.classes)}
            # Index len(rules) is the default: rows no rule matched fall through to it.
            self._class_of = np.asarray([index[_as_class(o)] for o in outputs], dtype=np.intp)
            self._confidence = np.asarray(
                [r.confidence for r in model.rules] + [model.default_confidence],
                dtype=np.float32)
        else:
            self.classes = None
            self._values = np.asarray(outputs, dtype=np.float64)

    def _chosen(self, X: npt.NDArray[Any]) -> npt.NDArray[np.intp]:
        """Index of the first matching rule per row (len(rules) when none matches)."""
        chosen = np.full(X.shape[0], len(self._rules), dtype=np.intp)
        # Walk rules last to first so an earlier match overwrites a later one: first wins.
        for i in range(len(self._rules) - 1, -1, -1):
            hit = np.ones(X.shape[0], dtype=bool)
            for cond in self._rules[i]:
                hit &= _mask(X, cond)
            chosen[hit] = i
        return chosen

    def predict(self, X: npt.NDArray[np.generic]) -> dict[str, npt.NDArray[np.generic]]:
        """Labels and probabilities (classification) or values (regression) per row."""
        check_input(X, self.n_features or 0)
        try:
            chosen = self._chosen(X)
        except (TypeError, ValueError) as exc:  # e.g. comparing text with a number
            raise InvalidInput(f"inputs cannot be compared by the rules: {exc}",
                               field="inputs") from exc
        if self.task == REGRESSION:
            return {"prediction": self._values[chosen]}
        cls = self._class_of[chosen]
        conf = self._confidence[chosen]
        k = len(self._labels)
        # The chosen class gets the rule's confidence; the rest is shared evenly.
        proba = np.repeat(((1.0 - conf) / (k - 1))[:, None], k, axis=1).astype(np.float32)
        proba[np.arange(X.shape[0]), cls] = conf
        # The label is the rule's output even when its confidence is below 1/k.
        return {"label": self._labels[cls], "probabilities": proba}


def _parse(data: bytes, feature_names: list[str]) -> RuleModel:
    """Parse and validate the YAML; every problem is reported with its field path."""
    try:
        # safe_load: a rules file must never be able to construct Python objects.
        doc = yaml.safe_load(data.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise artifact_error("rules", exc) from exc
    if not isinstance(doc, dict):
        raise artifact_error("rules", "the document must be a mapping with kind: rules")
    try:
        model = RuleModel.model_validate(doc)
    except ValidationError as exc:
        errors: dict[str, FieldError] = {}
        for err in exc.errors():
            path = _path(tuple(err["loc"]), extra=err["type"] == "extra_forbidden")
            errors.setdefault(path, FieldError(path, err["msg"]))
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors.values())
        raise InvalidInput(f"invalid rules artifact: {detail}",
                           errors=list(errors.values())) from None
    _check_semantics(model, feature_names)
    return model


def _check_semantics(model: RuleModel, feature_names: list[str]) -> None:
    """Checks pydantic cannot express alone: names against the contract and the classes."""
    problems = ErrorList()
    known = set(feature_names)
    for i, rule in enumerate(model.rules):
        for j, cond in enumerate(rule.when):
            if cond.feature not in known:
                problems.add(f"rules[{i}].when[{j}].feature",
                             f"unknown feature {cond.feature!r}; not in the model contract")
    outputs = [(f"rules[{i}].output", r.output) for i, r in enumerate(model.rules)]
    outputs.append(("default", model.default))
    if model.task == CLASSIFICATION:
        classes = model.classes or []
        if len(classes) < 2 or len(set(classes)) != len(classes):
            problems.add("classes", "classification needs at least two distinct class names")
        for path, out in outputs:
            if _as_class(out) not in classes:
                problems.add(path, f"{out!r} is not one of the classes {classes}")
    else:
        if model.classes is not None:
            problems.add("classes", "classes only apply to classification")
        for path, out in outputs:
            if not isinstance(out, float):
                problems.add(path, f"regression output must be a number, got {out!r}")
    problems.raise_if_any("invalid rules artifact")
