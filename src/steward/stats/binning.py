"""Bin a window of values against a reference profile: the only O(n) step of drift detection.

Count layouts (int64 arrays; additive, so a window's counts are the sum of its batches'):

- numeric, with K fine bins (``K = len(quantiles) - 1``, or 1 for a constant column,
  0 for an all-missing reference)::

      [below_min, fine_1, ..., fine_K, above_max, missing]      # length K + 3

  ``below_min`` counts x < u_0, ``fine_j`` counts u_{j-1} <= x < u_j (the last fine bin also
  takes x == u_m), ``above_max`` counts x > u_m, ``missing`` counts NaN, +-inf and None.
  For an all-missing reference every non-missing value counts as ``above_max``.
- categorical, with the profile's named categories C_1 < ... < C_k in sorted order::

      [C_1, ..., C_k, other, missing]                           # length k + 2

  ``other`` pools the reference's ``__other__`` tail and categories never seen in it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from steward.errors import InvalidInput
from steward.stats.profile import (
    CATEGORICAL,
    NUMERIC,
    Profile,
    as_float,
    categories,
    missing_mask,
)

Counts = npt.NDArray[np.int64]

# Below this many values a plain searchsorted beats building the lookup table.
_LUT_MIN_VALUES = 16_384
# Values are processed in chunks so the temporaries stay in the CPU cache.
_CHUNK = 32_768
# Lookup-table sizes tried, and the most correction steps accepted before falling back.
_LUT_CELLS = (1_024, 4_096, 16_384)
_MAX_STEPS = 3


def n_bins(profile: Profile) -> int:
    """Length of the count array for ``profile`` (see the module docstring)."""
    if profile["kind"] == NUMERIC:
        return _n_fine(profile) + 3
    if profile["kind"] == CATEGORICAL:
        return len(categories(profile)) + 2
    raise InvalidInput(f"unknown feature kind {profile['kind']!r}", field="kind")


def empty_counts(profile: Profile) -> Counts:
    """All-zero counts in the profile's layout (the identity for ``merge_counts``)."""
    return np.zeros(n_bins(profile), dtype=np.int64)


def merge_counts(*counts: Counts) -> Counts:
    """Counts of the union of windows: the element-wise sum."""
    return np.sum(counts, axis=0, dtype=np.int64)  # type: ignore[no-any-return]


def bin_counts(values: npt.NDArray[Any], profile: Profile) -> Counts:
    """Count ``values`` into the profile's bins (layout in the module docstring)."""
    if profile["kind"] == NUMERIC:
        return _numeric_counts(as_float(values), profile)
    if profile["kind"] == CATEGORICAL:
        return _categorical_counts(np.asarray(values).ravel(), profile)
    raise InvalidInput(f"unknown feature kind {profile['kind']!r}", field="kind")


def _n_fine(profile: Profile) -> int:
    return max(len(profile["quantiles"]) - 1, 1) if profile["quantiles"] else 0


def search_edges(quantiles: list[float]) -> npt.NDArray[np.float64]:
    """Edges e with ``searchsorted(e, x, 'right')`` = bin index of finite x in the layout."""
    q = np.asarray(quantiles, dtype=np.float64)
    if q.size == 0:
        return q
    lower = q[:-1] if q.size > 1 else q
    # nextafter makes the last fine bin closed: x == max stays inside, anything above is out.
    return np.append(lower, np.nextafter(q[-1], np.inf))


def _numeric_counts(x: npt.NDArray[np.floating[Any]], profile: Profile) -> Counts:
    edges = search_edges(profile["quantiles"])
    out = np.zeros(edges.size + 2, dtype=np.int64)
    if edges.size == 0:
        n_missing = int(np.count_nonzero(~np.isfinite(x)))
        return np.array([0, x.size - n_missing, n_missing], dtype=np.int64)
    lut = _lookup_table(edges.tobytes()) if x.size >= _LUT_MIN_VALUES else None
    for start in range(0, x.size, _CHUNK):
        chunk = x[start:start + _CHUNK]
        finite = np.isfinite(chunk)
        if not finite.all():
            out[-1] += chunk.size - int(np.count_nonzero(finite))
            chunk = chunk[finite]
        idx = np.searchsorted(edges, chunk, side="right") if lut is None else lut.index(chunk)
        out[:-1] += np.bincount(idx, minlength=edges.size + 1)
    return out


class _LookupTable:
    """Bin lookup in O(1) per value: a uniform cell grid plus a few exact correction steps.

    ``searchsorted`` does ~7 unpredictable branches per value (45 ns here); this does a
    multiply, a table read and ``steps`` compares (~6 ns). Exactness: ``cell()`` is monotone
    (every float op in it is), so an edge in a lower cell than x is <= x and one in a higher
    cell is > x; ``table[c]`` counts the edges in cells below c and the correction steps
    compare x with each edge in its own cell. ``steps`` is the most edges in any one cell.
    """

    def __init__(self, edges: npt.NDArray[np.float64], lo: float, scale: float,
                 cells: int) -> None:
        self.cells = cells
        self.scale = scale
        self.offset = lo - 1.0 / scale  # cell 0 is below lo, cell cells+1 at/above hi
        edge_cells = self.cell(edges)
        self.table = np.searchsorted(edge_cells, np.arange(cells + 2), side="left")
        self.steps = int(np.bincount(edge_cells, minlength=cells + 2).max())
        # A trailing NaN ends the corrections: x >= NaN is False, so idx never runs past it.
        self.edges = np.append(edges, np.nan)

    def cell(self, x: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.intp]:
        """Grid cell of each finite x, clipped to [0, cells + 1]."""
        with np.errstate(over="ignore"):  # far-out values overflow to inf and are clipped
            t = np.subtract(x, self.offset, dtype=np.float64)
            t *= self.scale
        np.fmax(t, 0.0, out=t)
        np.fmin(t, float(self.cells + 1), out=t)
        cells: npt.NDArray[np.intp] = t.astype(np.intp)
        return cells

    def index(self, x: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.intp]:
        """Same result as ``searchsorted(edges, x, side="right")`` for finite x."""
        idx = self.table.take(self.cell(x))
        for _ in range(self.steps):
            idx += x >= self.edges.take(idx)
        return idx


@lru_cache(maxsize=256)
def _lookup_table(edge_bytes: bytes) -> _LookupTable | None:
    edges = np.frombuffer(edge_bytes, dtype=np.float64)
    best: _LookupTable | None = None
    # Heavy tails stretch the grid; trimming the outermost edges from its span keeps the
    # central cells narrow (values beyond land in the end cells and are corrected there).
    for trim in (0, 1, 2):
        if edges.size <= 2 * trim + 2:
            break
        lo, hi = float(edges[trim]), float(edges[-1 - trim])
        for cells in _LUT_CELLS:
            # A span too narrow or too wide for float64 would give inf/NaN cells: skip it.
            with np.errstate(over="ignore", divide="ignore"):
                scale = float(np.float64(cells) / (np.float64(hi) - np.float64(lo)))
            if not (0.0 < scale < np.inf and np.isfinite(lo - 1.0 / scale)):
                continue
            lut = _LookupTable(edges, lo, scale, cells)
            if best is None or lut.steps < best.steps:
                best = lut
            if lut.steps <= 1:
                return lut
    return best if best is not None and best.steps <= _MAX_STEPS else None


def _categorical_counts(values: npt.NDArray[Any], profile: Profile) -> Counts:
    cats = np.asarray(categories(profile), dtype=str)
    missing = missing_mask(values)
    present = values[~missing].astype(str)
    out = np.zeros(cats.size + 2, dtype=np.int64)
    out[-1] = int(missing.sum())
    if cats.size == 0:
        out[-2] = present.size
        return out
    pos = np.minimum(np.searchsorted(cats, present), cats.size - 1)
    idx = np.where(cats[pos] == present, pos, cats.size)
    out[:-1] = np.bincount(idx, minlength=cats.size + 1)
    return out
