"""Approvals inbox (decide with a reason) and the audit log browser with chain verification."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from steward.api.deps import StateDep
from steward.approvals import service as approvals
from steward.audit import service as audit
from steward.errors import InvalidInput, NotFound, PermissionDenied
from steward.ui.render import UIRoute, page
from steward.ui.session import UI, UISession, check_csrf, check_origin

router = APIRouter(route_class=UIRoute)

Status = Literal["pending", "approved", "rejected", "all"]


@router.get("/approvals")
def inbox(request: Request, state: StateDep, ui: UI, status: Status = "pending",
          decided: int | None = None) -> Response:
    """Promotion requests with quorum, votes and live evidence gates."""
    who = ui.principal
    with state.factory() as session:
        rows = approvals.list_requests(session=session,
                                       status=None if status == "all" else status)
        items = [approvals.approval_out(session, r) for r in rows
                 if who.allows("models:read", r.model)]
    can_decide = {a.id: who.allows("approve", a.model, a.target) and a.status == "pending"
                  and a.requested_by != who.name for a in items}
    return page(request, "approvals.html", ui, items=items, status=status,
                statuses=["pending", "approved", "rejected", "all"], can_decide=can_decide,
                decided=decided)


def _decide(request: Request, state: StateDep, ui: UISession, request_id: int,
            csrf_token: str, reason: str, decision: str) -> Response:
    check_origin(request)
    check_csrf(ui.csrf, csrf_token)
    who = ui.principal
    with state.factory() as session, session.begin():
        row = approvals.get_request(session=session, request_id=request_id)
        if not who.allows("models:read", row.model):
            raise NotFound(f"approval request {request_id} not found")
        if not who.allows("approve", row.model, row.target):
            raise PermissionDenied(f"this key lacks 'approve' on {row.model!r} in {row.target}")
        if decision == "approve":
            approvals.approve(session=session, request_id=request_id, who=who,
                              reason=reason.strip() or None)
        else:
            if not reason.strip():
                raise InvalidInput("a rejection needs a reason", field="reason")
            approvals.reject(session=session, request_id=request_id, who=who,
                             reason=reason.strip())
    return RedirectResponse(f"/ui/approvals?status=all&decided={request_id}#a{request_id}",
                            status_code=303)


@router.post("/approvals/{request_id}/approve")
def approve(request: Request, request_id: int, state: StateDep, ui: UI,
            csrf_token: Annotated[str, Form()] = "",
            reason: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """Approve once the evidence gates pass; executes the change at quorum."""
    return _decide(request, state, ui, request_id, csrf_token, reason, "approve")


@router.post("/approvals/{request_id}/reject")
def reject(request: Request, request_id: int, state: StateDep, ui: UI,
           csrf_token: Annotated[str, Form()] = "",
           reason: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """Reject with a reason."""
    return _decide(request, state, ui, request_id, csrf_token, reason, "reject")


@router.get("/audit")
def audit_log(request: Request, state: StateDep, ui: UI, action: str | None = None,
              actor: str | None = None, target: str | None = None,
              outcome: str | None = None, before_seq: int | None = None,
              limit: Annotated[int, Query(ge=1, le=500)] = 100) -> Response:
    """Newest audit entries, filtered, with the whole chain's verification verdict."""
    if not ui.principal.allows("audit:read"):
        raise PermissionDenied("this key lacks 'audit:read'")
    with state.factory() as session:
        entries = audit.list_entries(session, action=action or None, actor=actor or None,
                                     target=target or None, outcome=outcome or None,
                                     before_seq=before_seq, limit=limit)
    verdict = state.audit.verify()
    filters = {"action": action or "", "actor": actor or "", "target": target or "",
               "outcome": outcome or ""}
    older = entries[-1]["seq"] if len(entries) == limit else None
    return page(request, "audit.html", ui, entries=entries, verdict=verdict, filters=filters,
                older=older, key_id=state.audit.key_id)
