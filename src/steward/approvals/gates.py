"""Evidence gates and quorum rules: pure functions over registry data (G1, G12)."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from steward.registry.contract import Contract, breaking_changes

# risk tier -> (approvals needed, one of them must hold the compliance role)
QUORUM: dict[str, tuple[int, bool]] = {"minimal": (1, False), "limited": (1, False),
                                       "high": (2, True)}
_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq}
_THRESHOLD = re.compile(r"^\s*(>=|<=|==|>|<)\s*([-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*$")


@dataclass(frozen=True)
class Gate:
    """One piece of evidence and whether it is satisfied."""

    name: str
    passed: bool
    detail: str


def parse_threshold(expression: str) -> tuple[str, float]:
    """`">=0.9"` -> (">=", 0.9); ValueError for anything else."""
    match = _THRESHOLD.match(expression)
    if match is None:
        raise ValueError(f"threshold {expression!r} must look like '>=0.9' (>=, >, <=, <, ==)")
    return match.group(1), float(match.group(2))


def metrics_gate(thresholds: Mapping[str, str], metrics: Mapping[str, Any]) -> Gate:
    """Every declared threshold holds for the version's lineage metrics."""
    if not thresholds:
        return Gate("metrics", True, "no thresholds declared")
    failures, passes = [], []
    for name, expression in sorted(thresholds.items()):
        op, bound = parse_threshold(expression)
        value = metrics.get(name)
        if not isinstance(value, int | float):
            failures.append(f"{name}: not recorded in the version's lineage")
        elif not _OPS[op](float(value), bound):
            failures.append(f"{name} = {value:g}, needs {op}{bound:g}")
        else:
            passes.append(f"{name} = {value:g} {op}{bound:g}")
    return Gate("metrics", not failures, "; ".join(failures or passes))


def contract_gate(running: Sequence[tuple[str, Mapping[str, Any]]],
                  candidate: Mapping[str, Any]) -> Gate:
    """The candidate's contract breaks nothing that runs now in the target environment."""
    if not running:
        return Gate("contract", True, "nothing of this model runs in the environment yet")
    new = Contract.model_validate(candidate)
    problems = [f"vs {label}: {p}" for label, old in running
                for p in breaking_changes(Contract.model_validate(old), new)]
    if problems:
        return Gate("contract", False, "; ".join(problems))
    return Gate("contract", True, "compatible with " + ", ".join(lbl for lbl, _ in running))


def bias_gate(contract: Mapping[str, Any], bias_assessment: str | None) -> Gate:
    """Models using protected features carry a bias assessment."""
    protected = [f["name"] for f in contract.get("features", []) if f.get("protected")]
    if not protected:
        return Gate("bias_assessment", True, "no protected features")
    if bias_assessment and bias_assessment.strip():
        return Gate("bias_assessment", True, f"present (protected: {', '.join(protected)})")
    return Gate("bias_assessment", False,
                f"missing: the model uses protected features {', '.join(protected)}")


def impact_gate(risk_tier: str, digest: str | None) -> Gate:
    """High-risk models carry an impact-assessment document (G12)."""
    if risk_tier != "high":
        return Gate("impact_assessment", True, f"not required for {risk_tier} risk")
    if digest:
        return Gate("impact_assessment", True, f"attached (sha256 {digest[:12]})")
    return Gate("impact_assessment", False, "missing: high-risk models need an attached "
                                            "impact assessment")


def quorum_met(risk_tier: str, approvals: Sequence[str]) -> bool:
    """`approvals` are the roles of distinct approvers."""
    needed, compliance = QUORUM.get(risk_tier, QUORUM["high"])
    return len(approvals) >= needed and (not compliance or "compliance" in approvals)
