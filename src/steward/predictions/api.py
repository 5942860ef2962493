"""Prediction lookup and feedback routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from steward.api.deps import SessionDep, get_principal
from steward.errors import PermissionDenied
from steward.predictions import service
from steward.predictions.schemas import FeedbackBatch, FeedbackIn, PredictionOut
from steward.security.principal import Principal

router = APIRouter(prefix="/api/v1", tags=["predictions"])
Caller = Annotated[Principal, Depends(get_principal)]


@router.get("/predictions/{request_id}")
def get_prediction(request_id: str, session: SessionDep, who: Caller) -> list[PredictionOut]:
    """A logged request on every route it took."""
    rows = service.get_prediction(session=session, request_id=request_id)
    if not who.allows("deployments:read", rows[0].deployment, rows[0].environment):
        raise PermissionDenied("this key may not read this deployment's predictions")
    return rows


@router.post("/feedback", status_code=201)
def feedback(body: FeedbackIn | FeedbackBatch, session: SessionDep,
             who: Caller) -> dict[str, int]:
    """Ground truth or outcomes for served requests, one or in bulk."""
    if not who.allows("feedback"):
        raise PermissionDenied("this key lacks the 'feedback' permission")
    items = body.items if isinstance(body, FeedbackBatch) else [body]
    return {"recorded": service.record_feedback(session=session, items=items)}
