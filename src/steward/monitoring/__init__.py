"""Live monitoring (M1-M7, M9, M10): incremental aggregates of the prediction log, drift,
data quality, silent failures, serving and model performance, fairness, alerts, /metrics.

Flow: ``worker.Monitor`` (leader only) folds new log rows into per-minute ``aggregates``
(``aggregator``, exactly once) -> ``windows`` sums buckets plus the unfolded tail ->
``checks`` / ``performance`` / ``fairness`` compute reports -> ``alerts`` evaluates rules
and enqueues signed webhooks. Formulas: ``steward.stats`` and docs/monitoring.md.
"""

from steward.monitoring.worker import Monitor

__all__ = ["Monitor"]
