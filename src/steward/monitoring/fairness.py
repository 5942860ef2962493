"""Group fairness of live predictions (M7), via ``fairlearn.metrics`` (pure).

For a protected feature with groups g and the positive class as "selected":

- selection rate ``SR_g = P(yhat = pos | group g)`` (all answered rows, feedback or not);
- demographic parity difference ``max_g SR_g - min_g SR_g``;
- equalized odds difference ``max(max_g TPR_g - min_g TPR_g, max_g FPR_g - min_g FPR_g)``,
  on the rows with ground truth only (None when a group lacks positives or negatives).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt


def group_fairness(groups: npt.NDArray[Any], selected: npt.NDArray[np.bool_],
                   truth: npt.NDArray[np.float64]) -> dict[str, Any]:
    """Selection rate per group, DPD over all rows, EOD over rows with truth (NaN = none)."""
    from fairlearn.metrics import (
        demographic_parity_difference,
        equalized_odds_difference,
        selection_rate,
    )

    g = np.asarray([str(v) for v in groups], dtype=object)
    sel = selected.astype(np.int64)
    out: dict[str, Any] = {"n": int(g.size), "groups": {}, "demographic_parity_difference": None,
                           "equalized_odds_difference": None, "n_with_truth": 0}
    if g.size == 0:
        return out
    for name in sorted(set(g)):
        mask = g == name
        out["groups"][name] = {"n": int(mask.sum()),
                               "selection_rate": float(selection_rate(sel[mask], sel[mask]))}
    out["demographic_parity_difference"] = float(
        demographic_parity_difference(sel, sel, sensitive_features=g))
    known = np.isfinite(truth)
    out["n_with_truth"] = int(known.sum())
    yt, yp, gk = truth[known].astype(np.int64), sel[known], g[known]
    if yt.size and _each_group_has_both(yt, gk):
        for name in sorted(set(gk)):
            mask = gk == name
            pos, neg = mask & (yt == 1), mask & (yt == 0)
            out["groups"][name].update(tpr=float(yp[pos].mean()), fpr=float(yp[neg].mean()))
        value = float(equalized_odds_difference(yt, yp, sensitive_features=gk))
        out["equalized_odds_difference"] = None if math.isnan(value) else value
    return out


def _each_group_has_both(y: npt.NDArray[np.int64], g: npt.NDArray[Any]) -> bool:
    return all(0 < int(y[g == name].sum()) < int((g == name).sum()) for name in set(g))
