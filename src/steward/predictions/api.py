"""Prediction lookup and feedback routes."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends

from steward.api.deps import SessionDep, StateDep, get_principal
from steward.db import transaction
from steward.errors import InvalidInput, PermissionDenied
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
def feedback(body: FeedbackIn | FeedbackBatch, state: StateDep,
             who: Caller) -> dict[str, int]:
    """Ground truth or outcomes for served requests, one or in bulk.

    The log reaches the database a few tens of milliseconds after the answer (it is shipped
    from each worker's spool), so feedback sent right after a prediction may name a request
    not yet visible: we ship this worker's spool and retry for up to a second before
    refusing unknown ids.
    """
    if not who.allows("feedback"):
        raise PermissionDenied("this key lacks the 'feedback' permission")
    items = body.items if isinstance(body, FeedbackBatch) else [body]
    for attempt in range(11):
        try:
            with transaction(state.factory) as session:
                return {"recorded": service.record_feedback(session=session, items=items)}
        except InvalidInput as exc:
            if attempt == 10 or not any(e.field == "request_id" for e in exc.errors):
                raise
            if attempt == 0:
                state.flush_log()
            else:
                time.sleep(0.1)
    raise AssertionError("unreachable")
