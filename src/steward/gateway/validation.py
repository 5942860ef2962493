"""Contract checks compiled once per version, run as a few vectorised NumPy ops per request.

A numeric request costs two comparisons against precomputed bound arrays (contract and
reference range fused, see `inspect`); only a request that fails is examined feature by
feature to name every offending field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from steward.errors import ErrorList

FloatArray = npt.NDArray[np.float64]
_BIG = float(np.finfo(np.float64).max)  # unbounded, yet +-inf still fails the check
_F32_TOL = 2.0 ** -23  # one float32 ulp, relative
_NUMERIC = frozenset({"float", "int", "bool"})


@dataclass(frozen=True)
class CompiledContract:
    """A version's contract as arrays: bounds, flags and category sets in feature order."""

    names: tuple[str, ...]
    index: Mapping[str, int]
    dtypes: tuple[str, ...]
    numeric: bool  # every feature numeric: requests become one float64 matrix
    lo: FloatArray
    hi: FloatArray
    nullable: npt.NDArray[np.bool_]
    any_nullable: bool
    required: frozenset[str]
    int_cols: npt.NDArray[np.intp]
    categories: Mapping[int, frozenset[str] | None]  # string features by column
    task: str
    classes: tuple[str, ...] | None
    ref_min: FloatArray  # reference profile range (NaN when unknown)
    ref_max: FloatArray

    @property
    def width(self) -> int:
        """Number of features."""
        return len(self.names)

    def ood_bounds(self, margin: float) -> tuple[FloatArray, FloatArray]:
        """Reference [min, max] widened by `margin` x range; +-inf where the profile is silent."""
        span = (self.ref_max - self.ref_min) * margin
        lo = np.where(np.isnan(self.ref_min), -np.inf, self.ref_min - span)
        hi = np.where(np.isnan(self.ref_max), np.inf, self.ref_max + span)
        return lo, hi


def compile_contract(contract: Mapping[str, Any], profile: Mapping[str, Any]) -> CompiledContract:
    """Precompute everything a request check needs from a stored contract and profile."""
    feats = contract.get("features", [])
    names = tuple(str(f["name"]) for f in feats)
    dtypes = tuple(str(f.get("dtype", "float")) for f in feats)
    # Clients often send float32: a bound equal at float32 precision must still pass.
    lo = np.array([-_BIG if f.get("min") is None else f["min"] - abs(f["min"]) * _F32_TOL
                   for f in feats], np.float64)
    hi = np.array([_BIG if f.get("max") is None else f["max"] + abs(f["max"]) * _F32_TOL
                   for f in feats], np.float64)
    for j, d in enumerate(dtypes):
        if d == "bool":
            lo[j], hi[j] = 0.0, 1.0
    nullable = np.array([bool(f.get("nullable")) for f in feats], dtype=bool)
    prof = profile.get("features", {}) if isinstance(profile, Mapping) else {}
    ref_min = np.array([_num((prof.get(n) or {}).get("min")) for n in names], np.float64)
    ref_max = np.array([_num((prof.get(n) or {}).get("max")) for n in names], np.float64)
    classes = None
    for out in contract.get("outputs", []) or []:
        if out.get("classes"):
            classes = tuple(str(c) for c in out["classes"])
            break
    return CompiledContract(
        names=names, index={n: j for j, n in enumerate(names)}, dtypes=dtypes,
        numeric=all(d in _NUMERIC for d in dtypes), lo=lo, hi=hi, nullable=nullable,
        any_nullable=bool(nullable.any()),
        required=frozenset(str(f["name"]) for f in feats if f.get("required", True)),
        int_cols=np.array([j for j, d in enumerate(dtypes) if d in ("int", "bool")], np.intp),
        categories={j: (frozenset(map(str, f["categories"])) if f.get("categories") else None)
                    for j, f in enumerate(feats) if dtypes[j] == "string"},
        task=str(contract.get("task", "classification")), classes=classes,
        ref_min=ref_min, ref_max=ref_max)


def _num(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else float("nan")


@dataclass(frozen=True)
class Screen:
    """A version's bounds under one OOD setting: reference range and the fused fast path."""

    ood_lo: FloatArray | None  # widened reference range; None when OOD checks are off
    ood_hi: FloatArray | None
    lo: FloatArray  # inside [lo, hi] a value satisfies the contract and is in distribution
    hi: FloatArray


def screen(c: CompiledContract, ood_margin: float | None) -> Screen:
    """Precompute the bounds `inspect` needs (`ood_margin` None: no OOD check)."""
    if ood_margin is None:
        return Screen(None, None, c.lo, c.hi)
    ood_lo, ood_hi = c.ood_bounds(ood_margin)
    return Screen(ood_lo, ood_hi, np.maximum(c.lo, ood_lo), np.minimum(c.hi, ood_hi))


def inspect(c: CompiledContract, X: npt.NDArray[Any], s: Screen) -> list[str]:
    """Raise `InvalidInput` if X breaks the contract; else the features flagged OOD.

    The usual request — numeric, valid, in distribution — costs one fused range test
    (NaN fails it, so nulls take the full path); anything else gets both full checks.
    """
    if c.numeric and b"\x00" not in ((s.lo <= X) & (s.hi >= X)).tobytes() and (
            not c.int_cols.size or _ints_ok(X[:, c.int_cols])):
        return []
    check(c, X)
    return [] if s.ood_lo is None or s.ood_hi is None else ood(X, c, s.ood_lo, s.ood_hi)


def check(c: CompiledContract, X: npt.NDArray[Any]) -> None:
    """Raise `InvalidInput` naming every feature whose values break the contract."""
    if c.numeric:
        ok = (c.lo <= X) & (c.hi >= X)
        if c.any_nullable:
            ok |= np.isnan(X) & c.nullable
        if ok.all() and (not c.int_cols.size or _ints_ok(X[:, c.int_cols])):
            return
        _explain_numeric(c, X)
        return
    problems = ErrorList()
    for j, name in enumerate(c.names):
        column = X[:, j]
        if c.dtypes[j] == "string":
            _check_strings(c, j, column, problems)
        else:
            try:
                values = np.asarray(column, dtype=np.float64)
            except (TypeError, ValueError):
                problems.add(name, f"expected {c.dtypes[j]} values")
                continue
            _explain_column(c, j, values, problems)
    problems.raise_if_any("the request breaks the model contract")


def ood(X: npt.NDArray[Any], c: CompiledContract, lo: FloatArray, hi: FloatArray) -> list[str]:
    """Names of features with a value outside the widened reference range."""
    if not c.numeric:
        cols = [j for j, d in enumerate(c.dtypes) if d != "string"]
        if not cols:
            return []
        Xn = np.asarray(X[:, cols], dtype=np.float64)
        with np.errstate(invalid="ignore"):
            flags = ((Xn < lo[cols]) | (Xn > hi[cols])).any(axis=0)
        return [c.names[cols[j]] for j in np.flatnonzero(flags)]
    out = (lo > X) | (hi < X)
    if not out.any():
        return []
    return [c.names[j] for j in np.flatnonzero(out.any(axis=0))]


def _ints_ok(values: FloatArray) -> bool:
    finite = np.isfinite(values)
    return bool((~finite | (values == np.floor(values))).all())


def _explain_numeric(c: CompiledContract, X: FloatArray) -> None:
    problems = ErrorList()
    for j in range(c.width):
        _explain_column(c, j, X[:, j], problems)
    problems.raise_if_any("the request breaks the model contract")


def _explain_column(c: CompiledContract, j: int, values: FloatArray, problems: ErrorList) -> None:
    name = c.names[j]
    nan = np.isnan(values)
    if nan.any() and not c.nullable[j]:
        problems.add(name, f"{int(nan.sum())} null value(s) but the feature is not nullable")
    inf = np.isinf(values)
    if inf.any():
        problems.add(name, f"{int(inf.sum())} infinite value(s)")
    finite = values[np.isfinite(values)]
    below, above = int((finite < c.lo[j]).sum()), int((finite > c.hi[j]).sum())
    if c.dtypes[j] == "bool" and (below or above or (finite != np.floor(finite)).any()):
        problems.add(name, "expected a boolean (true/false or 0/1)")
        return
    if below:
        problems.add(name, f"{below} value(s) below min {c.lo[j]:g}")
    if above:
        problems.add(name, f"{above} value(s) above max {c.hi[j]:g}")
    if c.dtypes[j] == "int" and (finite != np.floor(finite)).any():
        problems.add(name, "expected integer values")


def _check_strings(c: CompiledContract, j: int, column: npt.NDArray[Any],
                   problems: ErrorList) -> None:
    name = c.names[j]
    nulls = sum(1 for v in column if v is None)
    if nulls and not c.nullable[j]:
        problems.add(name, f"{nulls} null value(s) but the feature is not nullable")
    if any(v is not None and not isinstance(v, str) for v in column):
        problems.add(name, "expected string values")
        return
    allowed = c.categories.get(j)
    if allowed is not None:
        bad = sorted({v for v in column if v is not None and v not in allowed})
        if bad:
            problems.add(name, f"not in the categories: {', '.join(map(repr, bad[:5]))}")
