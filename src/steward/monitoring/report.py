"""Self-contained HTML drift report: a table and reference-vs-current inline SVG histograms."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt
from jinja2 import Environment, select_autoescape

from steward.stats.drift import arrange
from steward.stats.profile import CATEGORICAL, OTHER, Profile, categories

_W, _H, _PAD = 360, 120, 4


@dataclass(frozen=True)
class Histogram:
    """Proportions per bin of the reference and the current window, with bin labels."""

    name: str
    labels: list[str]
    reference: list[float]
    current: list[float]


def histogram(name: str, profile: Profile, counts: npt.NDArray[Any]) -> Histogram:
    """The bins the PSI sees: coarse numeric bins plus overflow, or categories plus other."""
    b = arrange(profile, counts)
    if profile["kind"] == CATEGORICAL:
        labels = [*categories(profile), OTHER]
    else:
        edges = profile["bin_edges"]
        labels = [f"< {edges[0]:.3g}" if edges else "below"]
        labels += [f"{lo:.3g} to {hi:.3g}" for lo, hi in pairwise(edges)]
        labels.append(f"> {edges[-1]:.3g}" if edges else "above")
    total = b.current.sum()
    cur = (b.current / total) if total else np.zeros_like(b.current)
    return Histogram(name, labels, [float(v) for v in b.reference], [float(v) for v in cur])


def svg(h: Histogram) -> str:
    """Paired bars (reference grey, current blue) as an inline SVG element."""
    n = max(len(h.labels), 1)
    top = max([*h.reference, *h.current, 1e-12])
    slot = (_W - 2 * _PAD) / n
    bar = max(slot / 2 - 1, 0.5)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" '
             f'viewBox="0 0 {_W} {_H}" role="img" aria-label="{_esc(h.name)} histogram">',
             f'<line x1="0" y1="{_H - _PAD}" x2="{_W}" y2="{_H - _PAD}" stroke="#999"/>']
    for i, (label, ref, cur) in enumerate(zip(h.labels, h.reference, h.current, strict=True)):
        x = _PAD + i * slot
        for dx, value, color, kind in ((0.0, ref, "#b0b0b0", "reference"),
                                       (bar + 1, cur, "#2f6fdf", "current")):
            height = (_H - 2 * _PAD) * value / top
            parts.append(f'<rect x="{x + dx:.1f}" y="{_H - _PAD - height:.1f}" '
                         f'width="{bar:.1f}" height="{height:.1f}" fill="{color}">'
                         f'<title>{_esc(label)} {kind}: {value:.2%}</title></rect>')
    parts.append("</svg>")
    return "".join(parts)


def _esc(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Drift report: {{ r.deployment }} ({{ r.version }})</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ddd;padding:4px 8px;
text-align:left}.drift{color:#b00020;font-weight:600}.ok{color:#1b7f3b}
.card{display:inline-block;margin:0 1em 1em 0;vertical-align:top}
.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px}
</style></head><body>
<h1>Drift report: {{ r.deployment }}</h1>
<p>Version <b>{{ r.version }}</b>; window
{{ r.window.start or ("last " ~ r.window.last ~ " rows") }} to {{ r.window.end }};
{{ r.window.rows }} rows in {{ r.window.requests }} requests.</p>
<p class="{{ 'drift' if r.dataset_drift else 'ok' }}">Dataset drift: {{ 'yes' if r.dataset_drift
else 'no' }} ({{ '%.0f' % (100 * r.drifted_share) }}% of features drifted; threshold
{{ '%.0f' % (100 * r.drift_share) }}%).</p>
{% for title, items in (("Features", r.features), ("Outputs", r.outputs)) %}
<h2>{{ title }}</h2>
<table><tr><th>name</th><th>kind</th><th>method</th><th>value</th><th>threshold</th>
<th>drift</th><th>missing</th></tr>
{% for f in items %}<tr><td>{{ f.feature }}</td><td>{{ f.kind }}</td><td>{{ f.method }}</td>
<td>{{ '%.4g' % f.value if f.value is not none else '-' }}</td><td>{{ f.threshold }}</td>
<td class="{{ 'drift' if f.drifted else 'ok' }}">{{ 'drifted' if f.drifted else 'ok' }}</td>
<td>{{ '%.1f%%' % (100 * f.missing_rate) if f.missing_rate is not none else '-' }}</td></tr>
{% endfor %}</table>{% endfor %}
<h2>Histograms</h2>
<p class="legend"><span style="background:#b0b0b0"></span>reference
<span style="background:#2f6fdf"></span>current window</p>
{% for name, image in charts %}<div class="card"><div>{{ name }}</div>{{ image | safe }}</div>
{% endfor %}
</body></html>
"""

_ENV = Environment(autoescape=select_autoescape(default=True))


def render(report: Any, histograms: Sequence[Histogram]) -> str:
    """The report page (no external resources)."""
    charts = [(h.name, svg(h)) for h in histograms]
    return _ENV.from_string(_TEMPLATE).render(r=report, charts=charts)
