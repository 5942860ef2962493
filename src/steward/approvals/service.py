"""Approval workflow: request, evidence, vote, execute; flags for after-the-fact review."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from steward import audit, webhooks
from steward.approvals import gates
from steward.approvals.schemas import ApprovalCreate, ApprovalOut, FlagOut, GateOut, VoteOut
from steward.approvals.tables import ApprovalRequest, ApprovalVote, ReviewFlag
from steward.artifacts import ArtifactStore
from steward.audit import context as audit_context
from steward.db import utcnow
from steward.deployments import service as deployments
from steward.deployments.schemas import RoutingChange, VersionRef
from steward.deployments.tables import Deployment
from steward.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from steward.registry import service as registry
from steward.registry.schemas import VersionStatus
from steward.registry.tables import ModelVersion
from steward.security.principal import Principal


def request_promotion(*, session: Session, spec: ApprovalCreate, who: Principal) -> ApprovalOut:
    """Open a request; nothing changes until the quorum approves."""
    version = registry.get_version(session=session, name=spec.model, ref=spec.version)
    if spec.deployment is not None:
        dep = deployments.get_deployment(session=session, name=spec.deployment)
        if dep.environment != spec.target:
            raise InvalidInput(f"deployment {spec.deployment!r} is in {dep.environment}, "
                               f"not {spec.target}", field="deployment")
    elif version.status == spec.target:
        raise Conflict(f"{spec.model}:{spec.version} is already in {spec.target}",
                       field="version")
    duplicate = session.scalar(select(ApprovalRequest.id).where(
        ApprovalRequest.model == spec.model, ApprovalRequest.version == spec.version,
        ApprovalRequest.target == spec.target, ApprovalRequest.status == "pending",
        ApprovalRequest.deployment.is_(None) if spec.deployment is None
        else ApprovalRequest.deployment == spec.deployment))
    if duplicate is not None:
        raise Conflict(f"approval request {duplicate} for this change is already pending")
    row = ApprovalRequest(model=spec.model, version=spec.version, target=spec.target,
                          deployment=spec.deployment, thresholds=spec.thresholds,
                          reason=spec.reason, requested_by=who.name, requested_by_id=who.key_id,
                          created_at=utcnow())
    session.add(row)
    session.flush()
    out = approval_out(session, row)
    _announce(session, row, "approval.requested", after=out, who=who)
    return out


def get_request(*, session: Session, request_id: int) -> ApprovalRequest:
    """The request row or `NotFound`."""
    row = session.get(ApprovalRequest, request_id)
    if row is None:
        raise NotFound(f"approval request {request_id} not found", field="request_id")
    return row


def list_requests(*, session: Session, status: str | None = None,
                  model: str | None = None) -> list[ApprovalRequest]:
    """Requests, newest first."""
    stmt = select(ApprovalRequest).order_by(ApprovalRequest.id.desc()).limit(500)
    if status:
        stmt = stmt.where(ApprovalRequest.status == status)
    if model:
        stmt = stmt.where(ApprovalRequest.model == model)
    return list(session.scalars(stmt))


def approve(*, session: Session, request_id: int, who: Principal,
            reason: str | None) -> ApprovalOut:
    """Record an approval once evidence passes; execute the change when the quorum is met."""
    row = _pending(session, request_id, who)
    failing = [g for g in evaluate(session, row) if not g.passed]
    if failing:
        raise Conflict("evidence gates not met: " + "; ".join(
            f"{g.name}: {g.detail}" for g in failing))
    before = approval_out(session, row)
    _vote(session, row, who, "approve", reason)
    roles = [v.role for v in row.votes if v.decision == "approve"]
    if gates.quorum_met(_risk(session, row), roles):
        _execute(session, row)
        row.status, row.decided_at = "approved", utcnow()
        session.flush()
        out = approval_out(session, row)
        _announce(session, row, "approval.approved", before=before, after=out, who=who)
    else:
        out = approval_out(session, row)
        _announce(session, row, "approval.vote", before=before, after=out, who=who)
    return out


def reject(*, session: Session, request_id: int, who: Principal, reason: str) -> ApprovalOut:
    """Reject with a reason; the request is closed."""
    row = _pending(session, request_id, who)
    before = approval_out(session, row)
    _vote(session, row, who, "reject", reason)
    row.status, row.decided_at, row.decision_reason = "rejected", utcnow(), reason
    session.flush()
    out = approval_out(session, row)
    _announce(session, row, "approval.rejected", before=before, after=out, who=who)
    return out


def attach_impact(*, session: Session, store: ArtifactStore, request_id: int,
                  filename: str, data: bytes) -> ApprovalOut:
    """Store an impact-assessment document (encrypted, content-addressed) on the request."""
    row = get_request(session=session, request_id=request_id)
    if row.status != "pending":
        raise Conflict(f"approval request {request_id} is already {row.status}")
    if row.votes:
        raise Conflict("evidence is frozen once a decision has been recorded")
    before = approval_out(session, row)
    digest, _ = store.put(data)
    row.impact_digest, row.impact_filename, row.impact_size = digest, filename[:255], len(data)
    session.flush()
    out = approval_out(session, row)
    _announce(session, row, "approval.evidence", before=before, after=out)
    return out


def evaluate(session: Session, row: ApprovalRequest) -> list[gates.Gate]:
    """Every evidence gate of a request, as it stands now."""
    version = registry.get_version(session=session, name=row.model, ref=row.version)
    return [gates.contract_gate(_running(session, row, version), version.contract),
            gates.metrics_gate(row.thresholds, version.lineage.get("metrics", {})),
            gates.bias_gate(version.contract, version.bias_assessment),
            gates.impact_gate(version.model.risk_tier, row.impact_digest)]


def approval_out(session: Session, row: ApprovalRequest) -> ApprovalOut:
    """Response form with quorum and live evidence."""
    tier = _risk(session, row)
    needed, compliance = gates.QUORUM.get(tier, gates.QUORUM["high"])
    return ApprovalOut(
        id=row.id, model=row.model, version=row.version, target=row.target,
        deployment=row.deployment, risk_tier=tier, thresholds=dict(row.thresholds),
        reason=row.reason, status=row.status, requested_by=row.requested_by,
        required_approvals=needed, compliance_required=compliance,
        votes=[VoteOut(approver=v.approver, role=v.role, decision=v.decision, reason=v.reason,
                       at=v.at) for v in row.votes],
        gates=[GateOut(name=g.name, passed=g.passed, detail=g.detail)
               for g in evaluate(session, row)] if row.status == "pending" else [],
        impact_digest=row.impact_digest, impact_filename=row.impact_filename,
        decision_reason=row.decision_reason, created_at=row.created_at,
        decided_at=row.decided_at)


def flag(session: Session, *, kind: str, target: str, environment: str | None,
         reason: str | None) -> None:
    """Flag an action taken without approval for review, in the caller's transaction."""
    ctx = audit_context.current()
    actor = ctx.principal.name if ctx and ctx.principal else "system"
    row = ReviewFlag(kind=kind, target=target, environment=environment, actor=actor,
                     reason=reason, created_at=utcnow())
    session.add(row)
    session.flush()
    out = flag_out(row).model_dump(mode="json")
    audit.record(session, "review.flag", target, after=out)
    webhooks.enqueue(session, "review.flagged", out)


def list_flags(*, session: Session, open_only: bool = True) -> list[FlagOut]:
    """Flags, newest first."""
    stmt = select(ReviewFlag).order_by(ReviewFlag.id.desc()).limit(500)
    if open_only:
        stmt = stmt.where(ReviewFlag.reviewed_at.is_(None))
    return [flag_out(r) for r in session.scalars(stmt)]


def review_flag(*, session: Session, flag_id: int, who: Principal, note: str) -> FlagOut:
    """Close a flag with a note."""
    row = session.get(ReviewFlag, flag_id)
    if row is None:
        raise NotFound(f"flag {flag_id} not found", field="flag_id")
    if row.reviewed_at is not None:
        raise Conflict(f"flag {flag_id} was already reviewed by {row.reviewed_by}")
    before = flag_out(row).model_dump(mode="json")
    row.reviewed_by, row.reviewed_at, row.review_note = who.name, utcnow(), note
    out = flag_out(row)
    audit.record(session, "review.close", row.target, before=before,
                 after=out.model_dump(mode="json"))
    return out


def flag_out(row: ReviewFlag) -> FlagOut:
    """Response form of a flag."""
    return FlagOut.model_validate(row, from_attributes=True)


def _pending(session: Session, request_id: int, who: Principal) -> ApprovalRequest:
    row = get_request(session=session, request_id=request_id)
    if row.status != "pending":
        raise Conflict(f"approval request {request_id} is already {row.status}")
    if who.name == row.requested_by or who.key_id == row.requested_by_id:
        raise PermissionDenied("the requester cannot decide their own request (four eyes)")
    if any(v.approver == who.name or v.approver_id == who.key_id for v in row.votes):
        raise Conflict(f"{who.name} has already decided request {request_id}")
    return row


def _vote(session: Session, row: ApprovalRequest, who: Principal, decision: str,
          reason: str | None) -> None:
    row.votes.append(ApprovalVote(approver=who.name, approver_id=who.key_id,
                                  role=who.role.value, decision=decision, reason=reason,
                                  at=utcnow()))
    session.flush()


def _execute(session: Session, row: ApprovalRequest) -> None:
    """Set the version's status; repoint the named deployment's champion."""
    registry.set_status(session=session, name=row.model, version=row.version,
                        status=VersionStatus(row.target))
    if row.deployment is not None:
        deployments.change_routing(
            session=session, name=row.deployment, actor=f"approval #{row.id}",
            change=RoutingChange(champion=VersionRef(model=row.model, version=row.version),
                                 reason=f"approval request {row.id}"))


def _running(session: Session, row: ApprovalRequest,
             version: ModelVersion) -> list[tuple[str, dict[str, Any]]]:
    """Contracts serving in the target environment that the candidate must stay compatible with."""
    running: list[tuple[str, dict[str, Any]]] = []
    stmt = select(Deployment).where(Deployment.environment == row.target)
    if row.deployment is not None:
        stmt = stmt.where(Deployment.name == row.deployment)
    for dep in session.scalars(stmt):
        champion = session.get_one(ModelVersion, dep.champion_version_id)
        if (champion.model.name == row.model or dep.name == row.deployment) and \
                champion.id != version.id:
            running.append((f"deployment {dep.name} ({champion.model.name}:{champion.version})",
                            champion.contract))
    for other in version.model.versions:
        if other.status == row.target and other.id != version.id:
            running.append((f"{row.model}:{other.version} ({row.target})", other.contract))
    return running


def _risk(session: Session, row: ApprovalRequest) -> str:
    return registry.get_model(session=session, name=row.model).risk_tier


def _announce(session: Session, row: ApprovalRequest, event: str, *,
              before: ApprovalOut | None = None, after: ApprovalOut,
              who: Principal | None = None) -> None:
    data = after.model_dump(mode="json")
    ctx = audit_context.current()
    principal = who or (ctx.principal if ctx else None)
    audit.record(session, event, f"approval:{row.id}",
                 before=before.model_dump(mode="json") if before else None, after=data,
                 actor=principal.name if principal else None,
                 actor_id=principal.key_id if principal else None)
    webhooks.enqueue(session, event, data)
