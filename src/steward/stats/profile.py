"""Reference profiles: the JSON summary of a feature's reference data, built at registration.

A profile is a plain ``dict`` of lists, floats, ints and strings (it must survive a JSON
round-trip and a PostgreSQL JSONB column, which does not keep key order). Layouts:

Numeric (``kind == "numeric"``)::

    {"version": 1, "kind": "numeric",
     "count": int,             # non-missing reference values (n_ref for the statistics)
     "missing_count": int, "missing_rate": float,      # missing = NaN, +-inf, None
     "min", "max", "mean", "std": float | None,        # None when count == 0; std has ddof=0
     "quantiles": [float],     # fine edges u_0 < ... < u_m (strictly increasing)
     "fine_proportions": [float],   # reference mass in each fine bin (K of them)
     "bin_edges": [float],     # coarse (decile) edges, a subset of "quantiles"
     "bin_proportions": [float]}    # reference mass in each coarse bin

``quantiles`` are the reference quantiles at ``bins + 1`` equal-probability points (NumPy's
default linear method, so the first is the min and the last the max) with ties removed.
``bin_edges`` are every ``bins // coarse_bins``-th of those points (the deciles, i.e.
``np.quantile(ref, np.linspace(0, 1, 101))[::10]``), ties removed, so each is a fine edge.
Fine bin j is ``[u_{j-1}, u_j)``; the last one is closed ``[u_{m-1}, u_m]``. With ties the
bins are fewer and their masses unequal, which is why the masses are stored rather than
assumed. A constant column has ``quantiles == [c]`` and one degenerate fine bin ``[c, c]``.
An all-missing column has empty lists and ``None`` summaries; its statistics are NaN.

Categorical (``kind == "categorical"``)::

    {"version": 1, "kind": "categorical", "count": int, "missing_count": int,
     "missing_rate": float, "frequencies": {category: proportion}}

``frequencies`` holds the ``top`` most frequent categories (ties broken by name) as strings
(``str(value)``), plus ``"__other__"`` for the mass of the rest when there is a rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from steward.errors import InvalidInput

PROFILE_VERSION = 1
FINE_BINS = 100
COARSE_BINS = 10
TOP_CATEGORIES = 100
OTHER = "__other__"
NUMERIC = "numeric"
CATEGORICAL = "categorical"
KINDS = (NUMERIC, CATEGORICAL)

Profile = dict[str, Any]


def infer_kind(values: npt.NDArray[Any]) -> str:
    """Feature kind from the dtype: ints and floats are numeric; bool, str, object categorical."""
    dt = np.asarray(values).dtype
    if dt.kind in "iuf":
        return NUMERIC
    if dt.kind in "bOUS":
        return CATEGORICAL
    raise InvalidInput(f"unsupported dtype {dt} for a drift profile")


def missing_mask(values: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
    """True where a value is missing: NaN/+-inf for floats, None or float NaN for objects."""
    arr = np.asarray(values)
    if arr.dtype.kind == "f":
        mask: npt.NDArray[np.bool_] = ~np.isfinite(arr)
        return mask
    if arr.dtype.kind == "O":
        return np.asarray(np.frompyfunc(_is_missing_object, 1, 1)(arr), dtype=bool)
    return np.zeros(arr.shape, dtype=bool)


def _is_missing_object(v: object) -> bool:
    return v is None or (isinstance(v, float) and not np.isfinite(v))


def as_float(values: npt.NDArray[Any]) -> npt.NDArray[np.floating[Any]]:
    """Values as a float array (float32 kept to save a copy); missing objects become NaN."""
    arr = np.asarray(values)
    if arr.dtype.kind == "f":
        return arr.ravel()
    if arr.dtype.kind == "O":
        arr = np.where(missing_mask(arr), np.nan, arr)
    try:
        return np.asarray(arr, dtype=np.float64).ravel()
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"values are not numeric: {exc}") from exc


def build_profile(values: npt.NDArray[Any], *, kind: str | None = None, bins: int = FINE_BINS,
                  coarse_bins: int = COARSE_BINS, top: int = TOP_CATEGORIES) -> Profile:
    """Reference profile of one feature (layout in the module docstring)."""
    kind = kind or infer_kind(values)
    if kind == NUMERIC:
        if bins < 1 or coarse_bins < 1 or bins % coarse_bins:
            raise InvalidInput("bins must be a positive multiple of coarse_bins", field="bins")
        return _numeric_profile(as_float(values), bins, coarse_bins)
    if kind == CATEGORICAL:
        if top < 1:
            raise InvalidInput("top must be positive", field="top")
        return _categorical_profile(np.asarray(values).ravel(), top)
    raise InvalidInput(f"unknown feature kind {kind!r}", field="kind")


def build_profiles(columns: Mapping[str, npt.NDArray[Any]], *,
                   kinds: Mapping[str, str] | None = None) -> dict[str, Profile]:
    """Profiles of many features; ``kinds`` overrides the dtype inference per feature."""
    kinds = kinds or {}
    return {name: build_profile(col, kind=kinds.get(name)) for name, col in columns.items()}


def _numeric_profile(x: npt.NDArray[np.floating[Any]], bins: int, coarse_bins: int) -> Profile:
    from steward.stats.binning import bin_counts  # binning reads profiles; import late

    finite = x[np.isfinite(x)]
    n, n_missing = int(finite.size), int(x.size - finite.size)
    prof: Profile = {"version": PROFILE_VERSION, "kind": NUMERIC, "count": n,
                     "missing_count": n_missing, "missing_rate": _rate(n_missing, x.size),
                     "min": None, "max": None, "mean": None, "std": None, "quantiles": [],
                     "fine_proportions": [], "bin_edges": [], "bin_proportions": []}
    if n == 0:
        return prof
    f64 = finite.astype(np.float64, copy=False)
    q_all = np.quantile(f64, np.linspace(0.0, 1.0, bins + 1))
    # Linear interpolation can break monotonicity by a rounding step; restore it so that
    # np.unique only removes true ties. Coarse edges are taken from the same array, so they
    # are exactly (bit for bit) fine edges and fine counts sum into coarse bins.
    q_all = np.maximum.accumulate(q_all)
    q = np.unique(q_all)
    coarse = np.unique(q_all[:: bins // coarse_bins])
    # Scaling by the largest magnitude keeps sums of squares finite for values near 1e308.
    scale = float(max(abs(q[0]), abs(q[-1]))) or 1.0
    unit = f64 / scale
    prof.update(min=float(q[0]), max=float(q[-1]), mean=float(unit.mean()) * scale,
                std=float(unit.std()) * scale, quantiles=q.tolist(), bin_edges=coarse.tolist())
    fine = bin_counts(finite, prof)[1:-2].astype(np.float64) / n
    prof["fine_proportions"] = fine.tolist()
    prof["bin_proportions"] = coarse_sums(fine, prof).tolist()
    return prof


def coarse_starts(profile: Profile) -> npt.NDArray[np.intp]:
    """Index of the first fine bin of each coarse bin (for ``np.add.reduceat``)."""
    q = np.asarray(profile["quantiles"], dtype=np.float64)
    edges = np.asarray(profile["bin_edges"], dtype=np.float64)
    if q.size <= 1:
        return np.zeros(min(q.size, 1), dtype=np.intp)
    pos = np.searchsorted(q, edges)
    if pos.size < 2 or np.any(pos >= q.size) or np.any(q[np.minimum(pos, q.size - 1)] != edges) \
            or pos[0] != 0 or pos[-1] != q.size - 1:
        raise InvalidInput("profile bin_edges are not a subset of its quantiles")
    return pos[:-1].astype(np.intp)


def coarse_sums(fine: npt.NDArray[Any], profile: Profile) -> npt.NDArray[Any]:
    """Sum fine-bin values (masses or counts) into the profile's coarse bins."""
    starts = coarse_starts(profile)
    if starts.size == 0:
        return np.zeros(0, dtype=fine.dtype)
    return np.add.reduceat(fine, starts)


def _categorical_profile(values: npt.NDArray[Any], top: int) -> Profile:
    missing = missing_mask(values)
    present = values[~missing].astype(str)
    n, n_missing = int(present.size), int(missing.sum())
    cats, counts = np.unique(present, return_counts=True)
    # Stable sort by descending count keeps np.unique's name order among ties.
    order = np.argsort(-counts, kind="stable")
    keep = order[:top]
    freqs = {str(cats[i]): float(counts[i]) / n for i in keep}
    rest = int(counts[order[top:]].sum())
    if rest:
        freqs[OTHER] = freqs.get(OTHER, 0.0) + rest / n
    return {"version": PROFILE_VERSION, "kind": CATEGORICAL, "count": n,
            "missing_count": n_missing, "missing_rate": _rate(n_missing, values.size),
            "frequencies": freqs}


def categories(profile: Profile) -> list[str]:
    """The profile's named categories in count-layout order (sorted; ``__other__`` excluded)."""
    return sorted(k for k in profile["frequencies"] if k != OTHER)


def _rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0
