"""The input/output contract of a model version: inferred from data, checked, edited as YAML."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from steward.errors import ErrorList, FieldError, InvalidInput

Dtype = Literal["float", "int", "bool", "string"]
_NUMERIC: frozenset[str] = frozenset({"float", "int"})
# Input dtype changes callers survive: every old value is still valid under the new dtype.
_WIDENING: frozenset[tuple[str, str]] = frozenset({("int", "float")})


class FeatureSpec(BaseModel):
    """One input feature: its type, whether it may be absent or null, and its valid values."""

    model_config = ConfigDict(extra="forbid")

    name: str
    dtype: Dtype
    required: bool = True
    nullable: bool = False
    min: float | None = None
    max: float | None = None
    categories: list[str] | None = None
    pii: bool = False
    protected: bool = False
    description: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> FeatureSpec:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        if (self.min is not None or self.max is not None) and self.dtype not in _NUMERIC:
            raise ValueError(f"min/max only apply to float or int features, not {self.dtype}")
        if self.categories is not None and self.dtype != "string":
            raise ValueError(f"categories only apply to string features, not {self.dtype}")
        return self


class OutputSpec(BaseModel):
    """One model output, e.g. a label (string) or probabilities (float, with classes)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    dtype: Dtype
    classes: list[str] | None = None


class Contract(BaseModel):
    """The features a model version accepts and the outputs it returns."""

    model_config = ConfigDict(extra="forbid")

    task: Literal["classification", "regression"] = "classification"
    features: list[FeatureSpec]
    outputs: list[OutputSpec] = []

    @field_validator("features")
    @classmethod
    def _features_unique(cls, value: list[FeatureSpec]) -> list[FeatureSpec]:
        if not value:
            raise ValueError("a contract needs at least one feature")
        _reject_duplicates([f.name for f in value], "feature")
        return value

    @field_validator("outputs")
    @classmethod
    def _outputs_unique(cls, value: list[OutputSpec]) -> list[OutputSpec]:
        _reject_duplicates([o.name for o in value], "output")
        return value

    @property
    def feature_names(self) -> list[str]:
        """Feature names in contract order."""
        return [f.name for f in self.features]


def _reject_duplicates(names: list[str], kind: str) -> None:
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"duplicate {kind} names: {', '.join(dupes)}")


def _dtype_of(series: pd.Series) -> Dtype | None:
    """Contract dtype for a pandas column, or None when unsupported (dates, complex...)."""
    if pd.api.types.is_bool_dtype(series):
        return "bool"
    if pd.api.types.is_integer_dtype(series):
        return "int"
    if pd.api.types.is_float_dtype(series):
        return "float"
    if series.dtype == object:
        # pyarrow turns nullable booleans into object columns; anything else mixed is text
        return "bool" if pd.api.types.infer_dtype(series, skipna=True) == "boolean" else "string"
    if isinstance(series.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(series):
        return "string"
    return None


def infer_contract(
    df: pd.DataFrame,
    *,
    pii: Iterable[str] = (),
    protected: Iterable[str] = (),
    exclude: Iterable[str] = (),
    max_categories: int = 50,
    ranges: bool = False,
) -> Contract:
    """Infer a contract from reference data: dtypes, nullability, categories (and ranges).

    Observed min/max become hard ranges only with `ranges=True`: a value just outside the
    training range is out of distribution (flagged or rejected per deployment policy, against
    the reference profile), not invalid. Hard ranges are for limits callers must respect.
    """
    columns = {str(c) for c in df.columns}
    pii_set, protected_set, exclude_set = set(pii), set(protected), set(exclude)
    problems = ErrorList()
    for field, names in (("pii", pii_set), ("protected", protected_set), ("exclude", exclude_set)):
        unknown = sorted(names - columns)
        if unknown:
            problems.add(field, f"not columns of the data: {', '.join(unknown)}")
    features: list[FeatureSpec] = []
    for col in df.columns:
        name = str(col)
        if name in exclude_set:
            continue
        series = df[col]
        dtype = _dtype_of(series)
        if dtype is None:
            problems.add("reference_data", f"column {name!r} has unsupported dtype "
                         f"{series.dtype}; exclude or convert it")
            continue
        spec: dict[str, Any] = {"name": name, "dtype": dtype, "nullable": bool(series.isna().any()),
                                "pii": name in pii_set, "protected": name in protected_set}
        if dtype in _NUMERIC and ranges:
            values = series.to_numpy(dtype=float, na_value=np.nan)
            finite = values[np.isfinite(values)]
            if finite.size:
                spec["min"], spec["max"] = float(finite.min()), float(finite.max())
        elif dtype == "string" and name not in pii_set:  # keep personal data out of contracts
            distinct = series.dropna().astype(str).unique()
            if len(distinct) <= max_categories:
                spec["categories"] = sorted(distinct.tolist())
        features.append(FeatureSpec(**spec))
    if not features and not problems.errors:
        problems.add("reference_data", "no feature columns left after exclusions")
    problems.raise_if_any("cannot infer a contract")
    return Contract(features=features)


@dataclass(frozen=True)
class ColumnStats:
    """Cell counts for one column checked against one feature spec."""

    rows: int
    present: int  # non-missing cells
    type_ok: int  # non-missing cells holding a value of the contract dtype
    checked: int  # type-correct cells subject to a range or category check
    below_min: int
    above_max: int
    not_in_categories: int
    examples: tuple[str, ...] = ()  # a few values outside the categories


_BoolArray = np.ndarray[Any, np.dtype[np.bool_]]


def _mask_of(values: np.ndarray[Any, Any], kind: type | tuple[type, ...]) -> _BoolArray:
    out: _BoolArray = np.fromiter(
        (isinstance(v, kind) for v in values), dtype=bool, count=len(values))
    return out


def column_stats(series: pd.Series, spec: FeatureSpec) -> ColumnStats:
    """Count missing, mistyped and out-of-range cells of `series` against `spec` (vectorised)."""
    n = len(series)
    present_mask = series.notna().to_numpy()
    ok = np.zeros(n, dtype=bool)
    below = above = outside = 0
    checked = 0
    examples: tuple[str, ...] = ()
    inferred = pd.api.types.infer_dtype(series, skipna=True) if series.dtype == object else ""
    if spec.dtype in _NUMERIC:
        values: np.ndarray[Any, Any] | None = None
        if pd.api.types.is_bool_dtype(series) or inferred == "boolean":
            pass
        elif pd.api.types.is_numeric_dtype(series):
            values = series.to_numpy(dtype=float, na_value=np.nan)
            ok = present_mask.copy()
        elif series.dtype == object or pd.api.types.is_string_dtype(series):
            # Mixed columns: numbers and numeric text count as numbers, booleans do not.
            values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            ok = present_mask & ~np.isnan(values)
            if inferred not in ("string", "floating", "integer", "mixed-integer-float"):
                ok &= ~_mask_of(series.to_numpy(dtype=object), bool)
        if values is not None:
            if spec.dtype == "int":
                with np.errstate(invalid="ignore"):
                    ok &= np.isfinite(values) & (values == np.floor(values))
            if spec.min is not None or spec.max is not None:
                checked = int(ok.sum())
                if spec.min is not None:
                    below = int((ok & (values < spec.min)).sum())
                if spec.max is not None:
                    above = int((ok & (values > spec.max)).sum())
    elif spec.dtype == "bool":
        if pd.api.types.is_bool_dtype(series) or inferred == "boolean":
            ok = present_mask
        elif series.dtype == object:
            ok = present_mask & _mask_of(series.to_numpy(dtype=object), (bool, np.bool_))
    else:
        if isinstance(series.dtype, pd.CategoricalDtype) or inferred == "string" or (
                pd.api.types.is_string_dtype(series) and series.dtype != object):
            ok = present_mask
        elif series.dtype == object:
            ok = present_mask & _mask_of(series.to_numpy(dtype=object), str)
        if spec.categories is not None:
            checked = int(ok.sum())
            bad = ok & ~series.isin(spec.categories).to_numpy()
            outside = int(bad.sum())
            if outside:
                examples = tuple(sorted({str(v) for v in series[bad].unique()[:5]}))
    return ColumnStats(n, int(present_mask.sum()), int(ok.sum()), checked, below, above,
                       outside, examples)


def check_against_data(contract: Contract, df: pd.DataFrame) -> None:
    """Raise InvalidInput with one field error per way the data contradicts the contract."""
    problems = ErrorList()
    columns = {str(c): c for c in df.columns}
    for spec in contract.features:
        field = f"contract.features[{spec.name}]"
        if spec.name not in columns:
            if spec.required:
                problems.add(field, f"required feature {spec.name!r} is missing from the data")
            continue
        series = df[columns[spec.name]]
        st = column_stats(series, spec)
        if st.type_ok < st.present:
            problems.add(field, f"dtype is {spec.dtype} but {st.present - st.type_ok} of "
                         f"{st.present} values are not (data dtype {series.dtype})")
        if not spec.nullable and st.present < st.rows:
            problems.add(field, f"not nullable but {st.rows - st.present} values are missing")
        if st.below_min:
            problems.add(field, f"{st.below_min} values are below min {spec.min:g}")
        if st.above_max:
            problems.add(field, f"{st.above_max} values are above max {spec.max:g}")
        if st.not_in_categories:
            problems.add(field, f"{st.not_in_categories} values are not in categories, "
                         f"e.g. {', '.join(repr(e) for e in st.examples)}")
    problems.raise_if_any("the data contradicts the contract")


def _loc_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "contract"


def _message(error: Any) -> str:
    """Pydantic's message, plus the offending scalar so the editor sees what was wrong."""
    value, msg = error.get("input"), str(error["msg"]).removeprefix("Value error, ")
    if error["type"] in ("missing", "value_error") or isinstance(value, dict | list):
        return msg
    return f"{msg} (got {str(value)[:60]!r})"


def contract_from_yaml(text: str) -> Contract:
    """Parse and validate a YAML contract; errors name field paths like features[2].dtype."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InvalidInput(f"contract is not valid YAML{where}: {problem}",
                           field="contract") from exc
    if not isinstance(raw, dict):
        raise InvalidInput("contract must be a YAML mapping with a 'features' list",
                           field="contract")
    try:
        return Contract.model_validate(raw)
    except ValidationError as exc:
        errors = [FieldError(_loc_path(tuple(e["loc"])), _message(e)) for e in exc.errors()]
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors)
        raise InvalidInput(f"invalid contract: {detail}", errors=errors) from exc


def contract_to_yaml(contract: Contract) -> str:
    """Render a contract as YAML without null/default noise; round-trips via contract_from_yaml."""
    body: dict[str, Any] = {"task": contract.task, "features": [
        f.model_dump(mode="json", exclude_defaults=True) for f in contract.features]}
    if contract.outputs:
        body["outputs"] = [o.model_dump(mode="json", exclude_defaults=True)
                           for o in contract.outputs]
    return yaml.safe_dump(body, sort_keys=False, allow_unicode=True)


def breaking_changes(old: Contract, new: Contract) -> list[str]:
    """Ways `new` would break callers or consumers of `old`; an empty list means compatible."""
    out: list[str] = []
    if old.task != new.task:
        out.append(f"task changed from {old.task} to {new.task}")
    before = {f.name: f for f in old.features}
    for f in new.features:
        o = before.get(f.name)
        if o is None:
            if f.required:
                out.append(f"new required feature {f.name!r}")
            continue
        label = f"feature {f.name!r}"
        if f.required and not o.required:
            out.append(f"{label} became required")
        if o.dtype != f.dtype and (o.dtype, f.dtype) not in _WIDENING:
            out.append(f"{label}: dtype narrowed from {o.dtype} to {f.dtype}")
        if f.min is not None and (o.min is None or f.min > o.min):
            out.append(f"{label}: min raised from {_bound(o.min)} to {f.min:g}")
        if f.max is not None and (o.max is None or f.max < o.max):
            out.append(f"{label}: max lowered from {_bound(o.max)} to {f.max:g}")
        if f.categories is not None:
            if o.categories is None:
                out.append(f"{label}: any value was accepted, now only the listed categories")
            elif removed := sorted(set(o.categories) - set(f.categories)):
                out.append(f"{label}: categories removed: {', '.join(removed)}")
        if o.nullable and not f.nullable:
            out.append(f"{label} is no longer nullable")
    after = {o.name: o for o in new.outputs}
    for prev in old.outputs:
        cur = after.get(prev.name)
        label = f"output {prev.name!r}"
        if cur is None:
            out.append(f"{label} removed")
            continue
        if cur.dtype != prev.dtype:
            out.append(f"{label}: dtype changed from {prev.dtype} to {cur.dtype}")
        if cur.classes != prev.classes:
            out.append(f"{label}: classes changed from {prev.classes} to {cur.classes}")
    return out


def _bound(value: float | None) -> str:
    return "unbounded" if value is None else f"{value:g}"
