"""Approval and review routes: thin; authorize, call the service, return a schema."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, UploadFile

from steward.api.deps import SessionDep, StateDep, get_principal, require
from steward.approvals import service
from steward.approvals.schemas import (
    ApprovalCreate,
    ApprovalOut,
    Decision,
    FlagOut,
    FlagReview,
    Rejection,
)
from steward.approvals.tables import ApprovalRequest
from steward.errors import InvalidInput, PayloadTooLarge, PermissionDenied
from steward.security.authz import HiddenNotFound, authorize
from steward.security.principal import Principal

router = APIRouter(prefix="/api/v1", tags=["approvals"])
Caller = Annotated[Principal, Depends(get_principal)]
Approver = Annotated[Principal, Depends(require("approve"))]


def _load(session: SessionDep, who: Principal, request_id: int,
          *operations: str) -> ApprovalRequest:
    row = service.get_request(session=session, request_id=request_id)
    if not who.allows("models:read", row.model):
        raise HiddenNotFound(f"approval request {request_id} not found", field="request_id")
    if operations and not any(who.allows(op, row.model, row.target) for op in operations):
        raise PermissionDenied(f"this key lacks {' or '.join(operations)} on {row.model!r} "
                               f"in {row.target}")
    return row


@router.post("/approvals", status_code=201)
def request_promotion(spec: ApprovalCreate, session: SessionDep, who: Caller) -> ApprovalOut:
    """Ask to promote a version; the quorum depends on the model's risk tier."""
    authorize(who, "deploy", spec.model, spec.target)
    return service.request_promotion(session=session, spec=spec, who=who)


@router.get("/approvals")
def list_requests(session: SessionDep, who: Caller, status: str | None = None,
                  model: str | None = None) -> list[ApprovalOut]:
    """Requests on models the caller may read, newest first."""
    return [service.approval_out(session, r)
            for r in service.list_requests(session=session, status=status, model=model)
            if who.allows("models:read", r.model)]


@router.get("/approvals/{request_id}")
def show(request_id: int, session: SessionDep, who: Caller) -> ApprovalOut:
    """One request with its votes and live evidence gates."""
    return service.approval_out(session, _load(session, who, request_id))


@router.post("/approvals/{request_id}/approve")
def approve(request_id: int, session: SessionDep, who: Caller,
            body: Decision | None = None) -> ApprovalOut:
    """Approve (not your own request, once); executes the change at quorum."""
    _load(session, who, request_id, "approve")
    return service.approve(session=session, request_id=request_id, who=who,
                           reason=body.reason if body else None)


@router.post("/approvals/{request_id}/reject")
def reject(request_id: int, body: Rejection, session: SessionDep, who: Caller) -> ApprovalOut:
    """Reject with a reason."""
    _load(session, who, request_id, "approve")
    return service.reject(session=session, request_id=request_id, who=who, reason=body.reason)


@router.post("/approvals/{request_id}/impact-assessment")
async def attach(request_id: int, file: UploadFile, session: SessionDep, state: StateDep,
                 who: Caller) -> ApprovalOut:
    """Attach the impact-assessment document (stored encrypted; digest on the request)."""
    from starlette.concurrency import run_in_threadpool

    await run_in_threadpool(_load, session, who, request_id, "deploy", "approve")
    limit = state.settings.max_upload_mb * 1024 * 1024
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"file exceeds {state.settings.max_upload_mb} MB", field="file")
    if not data:
        raise InvalidInput("file is empty", field="file")
    return await run_in_threadpool(
        lambda: service.attach_impact(session=session, store=state.store,
                                      request_id=request_id,
                                      filename=file.filename or "impact-assessment",
                                      data=data))


@router.get("/reviews")
def list_flags(session: SessionDep, who: Approver, all: bool = False) -> list[FlagOut]:
    """Actions taken without approval (emergency rollbacks) awaiting review."""
    return service.list_flags(session=session, open_only=not all)


@router.post("/reviews/{flag_id}/close")
def close_flag(flag_id: int, body: FlagReview, session: SessionDep, who: Approver) -> FlagOut:
    """Record the after-the-fact review of a flagged action."""
    return service.review_flag(session=session, flag_id=flag_id, who=who, note=body.note)
