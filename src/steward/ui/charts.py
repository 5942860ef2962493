"""Plotly figure specs (plain JSON dicts) for the dashboard; pure functions, no I/O."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

Figure = dict[str, Any]

CHAMPION, CANARY, SHADOW = "#2563eb", "#f59e0b", "#8b5cf6"
_FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12}


def _layout(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"margin": {"l": 48, "r": 12, "t": 28, "b": 36}, "font": _FONT,
                            "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "#fafafa",
                            "showlegend": False}
    base.update(extra)
    return base


def _num(value: float) -> float | None:
    """JSON-safe float: NaN and infinities become null (gaps in a line)."""
    return None if not math.isfinite(value) else float(value)


def merge_bins(edges: npt.NDArray[np.float64], mass: npt.NDArray[np.float64],
               target: int = 25) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Merge consecutive quantile bins into about `target` bins (edges kept, masses summed).

    `edges` has one more element than `mass`. Merging k fine bins of ~1 % each gives bins of
    ~k %, which smooths the density of small reference sets without inventing any edge.
    """
    step = max(1, -(-mass.size // target))
    starts = np.arange(0, mass.size, step)
    return np.append(edges[starts], edges[mass.size]), np.add.reduceat(mass, starts)


def histogram(profile: Mapping[str, Any], name: str) -> Figure | None:
    """Reference distribution of one feature from its profile, or None if it has no data.

    Numeric: bars over the quantile bins [u_{j-1}, u_j) merged to ~25, height = mass / width
    (a density, per unit of the feature), so unequal-width bins draw the true shape.
    Categorical: the stored category proportions.
    """
    title = {"text": name, "font": {"size": 12}}
    if profile.get("kind") == "categorical":
        freq: Mapping[str, float] = profile.get("frequencies") or {}
        if not freq:
            return None
        cats = list(freq)
        return {"data": [{"type": "bar", "x": cats, "y": [freq[c] for c in cats],
                          "marker": {"color": CHAMPION}, "name": name,
                          "hovertemplate": "%{x}: %{y:.1%}<extra></extra>"}],
                "layout": _layout(title=title, xaxis={"type": "category"},
                                  yaxis={"tickformat": ".0%"})}
    edges = np.asarray(profile.get("quantiles") or [], dtype=np.float64)
    mass = np.asarray(profile.get("fine_proportions") or [], dtype=np.float64)
    if edges.size == 0 or mass.size == 0:
        return None
    if edges.size == 1:  # a constant column: one degenerate bin
        centers, widths, density = edges, np.ones(1), mass[:1]
    else:
        edges, mass = merge_bins(edges[: mass.size + 1], mass[: edges.size - 1])
        widths = np.diff(edges)
        centers = edges[:-1] + widths / 2
        density = mass / np.where(widths > 0, widths, np.inf)
    return {"data": [{"type": "bar", "x": centers.tolist(), "y": density.tolist(),
                      "width": widths.tolist(), "marker": {"color": CHAMPION,
                                                           "line": {"width": 0}},
                      "name": name, "hovertemplate": "%{x:.4g}: density %{y:.3g}<extra></extra>"}],
            "layout": _layout(title=title, bargap=0, margin={"l": 40, "r": 8, "t": 28, "b": 28},
                              yaxis={"showticklabels": False, "title": {"text": "density"}})}


def traffic_split(champion: str, canary: str | None, canary_share: float,
                  shadows: Sequence[str]) -> Figure:
    """Configured split of live traffic; shadows receive a copy of 100 % of requests."""
    labels = [f"champion {champion}"]
    values = [round(1.0 - (canary_share if canary else 0.0), 6)]
    colors = [CHAMPION]
    if canary:
        labels.append(f"canary {canary}")
        values.append(round(canary_share, 6))
        colors.append(CANARY)
    data: list[dict[str, Any]] = [{"type": "bar", "orientation": "h", "y": ["live"],
                                   "x": [v], "name": label, "marker": {"color": color},
                                   "text": [f"{label} — {v:.0%}"], "textposition": "inside",
                                   "hovertemplate": f"{label}: %{{x:.0%}}<extra></extra>"}
                                  for label, v, color in zip(labels, values, colors,
                                                             strict=True)]
    for shadow in shadows:
        data.append({"type": "bar", "orientation": "h", "y": ["shadow copy"], "x": [1.0],
                     "name": f"shadow {shadow}", "marker": {"color": SHADOW},
                     "text": [f"shadow {shadow} — copy of 100%"], "textposition": "inside",
                     "hovertemplate": f"shadow {shadow}<extra></extra>"})
    return {"data": data, "layout": _layout(barmode="stack", height=90 + 40 * bool(shadows),
                                            margin={"l": 90, "r": 12, "t": 8, "b": 28},
                                            xaxis={"tickformat": ".0%", "range": [0, 1]})}


def bucket_latency(ts: npt.NDArray[np.float64], latency_ms: npt.NDArray[np.float64],
                   start: float, end: float, buckets: int = 60) -> dict[str, list[Any]]:
    """Requests per minute and p50/p95/p99 latency (ms) in `buckets` equal time buckets.

    `ts` are epoch seconds in [start, end); rate = count / bucket width in minutes. Percentiles
    use NumPy's linear interpolation; an empty bucket has rate 0 and no percentiles (null).
    """
    width = max((end - start) / buckets, 1e-9)
    index = np.clip(((ts - start) // width).astype(np.int64), 0, buckets - 1)
    order = np.argsort(index, kind="stable")
    index, values = index[order], latency_ms[order]
    bounds = np.searchsorted(index, np.arange(buckets + 1))
    out: dict[str, list[Any]] = {"t": [], "rate_per_min": [], "p50": [], "p95": [], "p99": []}
    for b in range(buckets):
        chunk = values[bounds[b]:bounds[b + 1]]
        out["t"].append(datetime.fromtimestamp(start + (b + 0.5) * width, UTC).isoformat())
        out["rate_per_min"].append(chunk.size / (width / 60.0))
        if chunk.size:
            p50, p95, p99 = np.percentile(chunk, [50, 95, 99])
            out["p50"].append(_num(p50))
            out["p95"].append(_num(p95))
            out["p99"].append(_num(p99))
        else:
            for key in ("p50", "p95", "p99"):
                out[key].append(None)
    return out


def rate_figure(series: Mapping[str, list[Any]]) -> Figure:
    """Requests per minute over time."""
    return {"data": [{"type": "scatter", "mode": "lines", "x": series["t"],
                      "y": series["rate_per_min"], "line": {"color": CHAMPION, "shape": "hv"},
                      "fill": "tozeroy", "name": "requests/min"}],
            "layout": _layout(yaxis={"title": {"text": "requests / min"}, "rangemode": "tozero"},
                              height=240)}


def latency_figure(series: Mapping[str, list[Any]]) -> Figure:
    """p50/p95/p99 latency over time."""
    colors = {"p50": CHAMPION, "p95": CANARY, "p99": "#dc2626"}
    return {"data": [{"type": "scatter", "mode": "lines+markers", "x": series["t"],
                      "y": series[k], "name": k, "connectgaps": False,
                      "line": {"color": c}, "marker": {"size": 4}}
                     for k, c in colors.items()],
            "layout": _layout(yaxis={"title": {"text": "latency (ms)"}, "rangemode": "tozero"},
                              showlegend=True, height=240,
                              legend={"orientation": "h", "y": 1.15})}


def paired_bars(name: str, labels: Sequence[str], reference: Sequence[float],
                current: Sequence[float]) -> Figure:
    """Reference (grey) vs current (blue) share of rows per drift bin."""
    def bars(values: Sequence[float], label: str, color: str) -> dict[str, Any]:
        return {"type": "bar", "x": list(labels), "y": list(values), "name": label,
                "marker": {"color": color},
                "hovertemplate": f"%{{x}} {label}: %{{y:.1%}}<extra></extra>"}

    return {"data": [bars(reference, "reference", "#9ca3af"), bars(current, "current", CHAMPION)],
            "layout": _layout(title={"text": name, "font": {"size": 12}}, barmode="group",
                              bargap=0.15, margin={"l": 40, "r": 8, "t": 28, "b": 28},
                              xaxis={"type": "category", "showticklabels": False},
                              yaxis={"tickformat": ".0%"})}


def series_figure(points: Sequence[Mapping[str, Any]], keys: Mapping[str, str],
                  y_title: str, percent: bool = False) -> Figure | None:
    """Lines of `keys` (field -> legend) over `start` epoch seconds; None when all empty."""
    x = [datetime.fromtimestamp(p["start"], UTC).isoformat() for p in points]
    colors = [CHAMPION, CANARY, "#dc2626", SHADOW, "#059669"]
    data = [{"type": "scatter", "mode": "lines+markers", "x": x, "name": legend,
             "y": [p.get(key) for p in points], "line": {"color": colors[i % len(colors)]}}
            for i, (key, legend) in enumerate(keys.items())]
    if not any(v is not None for trace in data for v in trace["y"]):
        return None
    yaxis: dict[str, Any] = {"title": {"text": y_title}, "rangemode": "tozero"}
    if percent:
        yaxis["tickformat"] = ".0%"
    return {"data": data, "layout": _layout(yaxis=yaxis, showlegend=True, height=240,
                                            legend={"orientation": "h", "y": 1.15})}
