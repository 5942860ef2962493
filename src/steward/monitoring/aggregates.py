"""Additive per-bucket aggregates of the prediction log: fold records, merge, read back.

An ``Aggregate`` is two flat vectors whose layout is fixed by one model version's contract
and profile (both immutable), so a window is the element-wise sum of its buckets:

``counts`` (int64)::

    [requests, rows, errors, fallbacks, ood_requests, rows_with_outputs,
     latency histogram (len(LATENCY_EDGES_MS) + 1 bins),
     per feature f (profile order): bin counts (stats.binning layout of f's profile),
                                    type_violations, range_violations, unseen, ood_requests,
     per output o (profile order):  bin counts (layout of o's profile)]

``sums`` (float64): ``[latency_ms_sum, per numeric output o: sum(x), sum(x^2)]``.

Latency buckets are fixed and log-spaced (20 per decade from 0.01 ms to 100 s), so a
percentile read back from a histogram is within one bucket (12 %) of the exact value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from steward.stats.binning import bin_counts, n_bins
from steward.stats.profile import CATEGORICAL, NUMERIC, OTHER, Profile, categories

LATENCY_EDGES_MS = np.logspace(-2, 5, 7 * 20 + 1)
SCALARS = ("requests", "rows", "errors", "fallbacks", "ood_requests", "answered_rows")
QUALITY = ("type_violations", "range_violations", "unseen", "ood_requests")
BUCKET_S = 60
F32_TOL = 2.0 ** -23  # one float32 ulp, relative (as the gateway's contract check)

Key = tuple[str, int, str, int]  # deployment, version_id, route, bucket start (epoch s)


@dataclass(frozen=True)
class Slot:
    """Where one column's counts live in ``counts``."""

    name: str
    profile: Profile
    start: int
    stop: int
    spec: Mapping[str, Any] = field(default_factory=dict)
    sums_at: int = -1  # first of two slots in ``sums`` (numeric outputs), else -1


class Layout:
    """Offsets of every column of one version's aggregates (see the module docstring)."""

    def __init__(self, contract: Mapping[str, Any], profile: Mapping[str, Any]) -> None:
        specs = {f["name"]: f for f in contract.get("features", [])}
        pos = len(SCALARS)
        self.latency = slice(pos, pos + LATENCY_EDGES_MS.size + 1)
        pos = self.latency.stop
        self.features: list[Slot] = []
        for name, prof in profile.get("features", {}).items():
            stop = pos + n_bins(prof)
            self.features.append(Slot(name, prof, pos, stop, specs.get(name, {})))
            pos = stop + len(QUALITY)
        self.outputs: list[Slot] = []
        n_sums = 1
        for name, prof in profile.get("outputs", {}).items():
            stop = pos + n_bins(prof)
            at = -1
            if prof["kind"] == NUMERIC:
                at, n_sums = n_sums, n_sums + 2
            self.outputs.append(Slot(name, prof, pos, stop, sums_at=at))
            pos = stop
        self.size, self.n_sums = pos, n_sums
        self.classes = _classes(contract)

    def empty(self) -> Aggregate:
        """The zero aggregate (identity of ``Aggregate.add``)."""
        return Aggregate(np.zeros(self.size, np.int64), np.zeros(self.n_sums, np.float64))

    def load(self, counts: bytes, sums: bytes) -> Aggregate:
        """An aggregate from its stored bytes (little-endian int64 / float64)."""
        c = np.frombuffer(counts, dtype="<i8").astype(np.int64)
        s = np.frombuffer(sums, dtype="<f8").astype(np.float64)
        if c.size != self.size or s.size != self.n_sums:
            raise ValueError("stored aggregate does not match the version's layout")
        return Aggregate(c, s)


@dataclass
class Aggregate:
    """Counts and sums of one bucket or window (additive)."""

    counts: npt.NDArray[np.int64]
    sums: npt.NDArray[np.float64]

    def add(self, other: Aggregate) -> Aggregate:
        """In-place sum; returns self."""
        self.counts += other.counts
        self.sums += other.sums
        return self

    def scalar(self, name: str) -> int:
        """One of ``SCALARS``."""
        return int(self.counts[SCALARS.index(name)])

    def dump(self) -> tuple[bytes, bytes]:
        """Bytes to store."""
        return self.counts.astype("<i8").tobytes(), self.sums.astype("<f8").tobytes()


def _classes(contract: Mapping[str, Any]) -> list[str]:
    for out in contract.get("outputs", []):
        if out.get("name") == "probabilities" and out.get("classes"):
            return [str(c) for c in out["classes"]]
    return []


def epoch(ts: datetime | float) -> float:
    """Seconds since the epoch of a datetime or a float."""
    return ts.timestamp() if isinstance(ts, datetime) else float(ts)


def bucket_of(ts: datetime | float) -> int:
    """Start (epoch seconds) of the one-minute bucket holding ``ts``."""
    return int(math.floor(epoch(ts) / BUCKET_S) * BUCKET_S)


def fold(records: Iterable[Mapping[str, Any]],
         layouts: Mapping[int, Layout]) -> dict[Key, Aggregate]:
    """Aggregate prediction-log records per (deployment, version, route, minute).

    Records need ``deployment, version_id, route, ts, rows, inputs, outputs, latency_ms,
    error, fallback, ood``; records of versions without a layout are skipped.
    """
    groups: dict[Key, list[Mapping[str, Any]]] = {}
    for r in records:
        if r["version_id"] in layouts:
            key = (r["deployment"], r["version_id"], r["route"], bucket_of(r["ts"]))
            groups.setdefault(key, []).append(r)
    return {key: aggregate(recs, layouts[key[1]]) for key, recs in groups.items()}


def aggregate(records: Sequence[Mapping[str, Any]], layout: Layout) -> Aggregate:
    """The aggregate of some records of one version."""
    agg = layout.empty()
    c = agg.counts
    rows = [int(r.get("rows") or 0) for r in records]
    answered = [r for r in records if r.get("outputs")]
    c[:len(SCALARS)] = (len(records), sum(rows), sum(1 for r in records if r.get("error")),
                        sum(1 for r in records if r.get("fallback")),
                        sum(1 for r in records if r.get("ood")),
                        sum(int(r.get("rows") or 0) for r in answered))
    lat = np.fromiter((float(r["latency_ms"]) for r in records), np.float64, len(records))
    c[layout.latency] = np.bincount(np.searchsorted(LATENCY_EDGES_MS, lat, side="right"),
                                    minlength=LATENCY_EDGES_MS.size + 1)
    agg.sums[0] = float(lat.sum())
    ood_counts: dict[str, int] = {}
    for r in records:
        for name in r.get("ood") or ():
            ood_counts[name] = ood_counts.get(name, 0) + 1
    inputs = [r.get("inputs") or {} for r in records]
    for slot in layout.features:
        _fold_feature(c, slot, _column(inputs, rows, slot.name), ood_counts.get(slot.name, 0))
    if answered:
        outs = [r["outputs"] for r in answered]
        n_out = [int(r.get("rows") or 0) for r in answered]
        for slot in layout.outputs:
            values = output_column(outs, n_out, slot.name, layout.classes)
            x = _as_numbers(values)[0] if slot.profile["kind"] == NUMERIC else values
            c[slot.start:slot.stop] = bin_counts(x, slot.profile)
            if slot.sums_at >= 0:
                finite = x[np.isfinite(x)]
                agg.sums[slot.sums_at:slot.sums_at + 2] = (finite.sum(), np.square(finite).sum())
    return agg


def _column(inputs: Sequence[Mapping[str, Any]], rows: Sequence[int], name: str) -> list[Any]:
    """One feature's values over records; an absent column counts as missing rows."""
    out: list[Any] = []
    for cols, n in zip(inputs, rows, strict=True):
        col = cols.get(name)
        out.extend(col if col is not None else [None] * n)
    return out


def output_column(outputs: Sequence[Mapping[str, Any]], rows: Sequence[int], name: str,
                  classes: Sequence[str]) -> npt.NDArray[Any]:
    """Values of one profiled output (``label``, ``probability:<class>``, ``prediction``)."""
    out: list[Any] = []
    for o, n in zip(outputs, rows, strict=True):
        if name.startswith("probability:"):
            probs, cls = o.get("probabilities"), name.split(":", 1)[1]
            j = classes.index(cls) if cls in classes else -1
            out.extend([p[j] for p in probs] if probs is not None and j >= 0 else [None] * n)
        else:
            col = o.get(name)
            out.extend(col if col is not None else [None] * n)
    arr = np.empty(len(out), dtype=object)
    arr[:] = out
    return arr


def _as_numbers(values: Sequence[Any] | npt.NDArray[Any]
                ) -> tuple[npt.NDArray[np.float64], int]:
    """Float values (None -> NaN) and how many could not be read as numbers."""
    try:  # the common case: one C-level conversion of a list of floats and Nones
        return np.array(values, dtype=np.float64), 0
    except (TypeError, ValueError):
        pass
    x = np.empty(len(values), np.float64)
    bad = 0
    for i, v in enumerate(values):
        try:
            x[i] = np.nan if v is None else float(v)
        except (TypeError, ValueError):
            x[i], bad = np.nan, bad + 1
    return x, bad


def _fold_feature(c: npt.NDArray[np.int64], slot: Slot, column: list[Any], ood: int) -> None:
    spec, prof = slot.spec, slot.profile
    q = slot.stop  # the four quality counters follow the bins
    if prof["kind"] == NUMERIC:
        x, bad = _as_numbers(column)
        c[slot.start:slot.stop] = bin_counts(x, prof)
        lo, hi = spec.get("min"), spec.get("max")
        with np.errstate(invalid="ignore"):  # float32 callers: a bound equal at f32 is in
            out_of_range = (x < lo - abs(lo) * F32_TOL if lo is not None else False) | (
                x > hi + abs(hi) * F32_TOL if hi is not None else False)
        c[q:q + 3] = (bad, int(np.count_nonzero(out_of_range)), 0)
    else:
        values = np.empty(len(column), dtype=object)
        values[:] = column
        c[slot.start:slot.stop] = bin_counts(values, prof)
        known = _known_categories(spec, prof)
        bad = 0
        if spec.get("dtype") == "bool":
            bad = sum(1 for v in values if v is not None and not isinstance(v, bool))
        unseen = 0
        if known is not None:
            present = np.asarray([str(v) for v in values if v is not None], dtype=str)
            unseen = int(np.count_nonzero(~np.isin(present, known)))
        c[q:q + 3] = (bad, 0, unseen)
    c[q + 3] = ood


def _known_categories(spec: Mapping[str, Any], prof: Profile) -> list[str] | None:
    """Valid categories: the contract's list, else the reference's when it names them all."""
    if spec.get("categories"):
        return [str(v) for v in spec["categories"]]
    if prof["kind"] == CATEGORICAL and OTHER not in prof["frequencies"]:
        return categories(prof)
    return None


def latency_percentile(hist: npt.NDArray[np.int64], q: float) -> float | None:
    """The q-quantile (0..1) of a latency histogram, log-interpolated inside its bucket."""
    total = int(hist.sum())
    if total == 0:
        return None
    target = q * total
    cum = np.cumsum(hist)
    i = int(np.searchsorted(cum, target, side="left"))
    i = min(i, hist.size - 1)
    lo = LATENCY_EDGES_MS[i - 1] if i > 0 else LATENCY_EDGES_MS[0]
    hi = LATENCY_EDGES_MS[i] if i < LATENCY_EDGES_MS.size else LATENCY_EDGES_MS[-1]
    before = float(cum[i - 1]) if i > 0 else 0.0
    frac = (target - before) / float(hist[i]) if hist[i] else 0.0
    return float(lo * (hi / lo) ** min(max(frac, 0.0), 1.0))
