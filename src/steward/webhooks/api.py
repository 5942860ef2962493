"""Webhook routes (admin only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from steward.api.deps import SessionDep, StateDep, require
from steward.security.principal import Principal
from steward.webhooks import service
from steward.webhooks.schemas import DeliveryOut, WebhookCreate, WebhookCreated, WebhookOut

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])
Admin = Annotated[Principal, Depends(require("keys:admin"))]


@router.post("", status_code=201)
def create(spec: WebhookCreate, session: SessionDep, state: StateDep, who: Admin
           ) -> WebhookCreated:
    """Subscribe a URL to governance events; the signing secret is shown once."""
    return service.create(session=session, spec=spec, key=state.master.derive("webhooks"),
                          actor=who.name)


@router.get("")
def list_(session: SessionDep, who: Admin) -> list[WebhookOut]:
    """Every subscription."""
    return service.list_webhooks(session=session)


@router.get("/{webhook_id}/deliveries")
def deliveries(webhook_id: int, session: SessionDep, who: Admin) -> list[DeliveryOut]:
    """Recent deliveries of one subscription."""
    return service.deliveries(session=session, webhook_id=webhook_id)


@router.delete("/{webhook_id}", status_code=204)
def delete(webhook_id: int, session: SessionDep, who: Admin) -> None:
    """Unsubscribe."""
    service.delete(session=session, webhook_id=webhook_id)
