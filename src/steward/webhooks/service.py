"""Subscriptions and the outbox: events are enqueued in the caller's transaction."""

from __future__ import annotations

import base64
import os
import secrets
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from sqlalchemy.orm import Session

from steward import audit
from steward.audit.chain import jsonable
from steward.db import utcnow
from steward.errors import NotFound
from steward.webhooks.schemas import DeliveryOut, WebhookCreate, WebhookCreated, WebhookOut
from steward.webhooks.tables import Webhook, WebhookDelivery


def seal_secret(secret: str, key: bytes) -> str:
    """Encrypt a webhook secret for storage (AES-256-GCM)."""
    nonce = os.urandom(12)
    return base64.b64encode(nonce + AESGCM(key).encrypt(nonce, secret.encode(), b"webhook"))\
        .decode()


def open_secret(sealed: str, key: bytes) -> str:
    """Decrypt a stored webhook secret."""
    raw = base64.b64decode(sealed)
    return AESGCM(key).decrypt(raw[:12], raw[12:], b"webhook").decode()


def create(*, session: Session, spec: WebhookCreate, key: bytes, actor: str) -> WebhookCreated:
    """Subscribe a URL; the secret is returned only now."""
    secret = spec.secret or secrets.token_urlsafe(32)
    row = Webhook(url=spec.url, events=spec.events, secret_enc=seal_secret(secret, key),
                  created_by=actor, created_at=utcnow())
    session.add(row)
    session.flush()
    out = _out(row)
    audit.record(session, "webhook.create", f"webhook:{row.id}", after=out.model_dump(mode="json"))
    return WebhookCreated(**out.model_dump(), secret=secret)


def list_webhooks(*, session: Session) -> list[WebhookOut]:
    """Every subscription."""
    return [_out(r) for r in session.scalars(select(Webhook).order_by(Webhook.id))]


def delete(*, session: Session, webhook_id: int) -> None:
    """Unsubscribe (pending deliveries go too)."""
    row = session.get(Webhook, webhook_id)
    if row is None:
        raise NotFound(f"webhook {webhook_id} not found", field="webhook_id")
    audit.record(session, "webhook.delete", f"webhook:{row.id}",
                 before=_out(row).model_dump(mode="json"))
    session.delete(row)


def deliveries(*, session: Session, webhook_id: int) -> list[DeliveryOut]:
    """A subscription's deliveries, newest first."""
    if session.get(Webhook, webhook_id) is None:
        raise NotFound(f"webhook {webhook_id} not found", field="webhook_id")
    rows = session.scalars(select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
                           .order_by(WebhookDelivery.id.desc()).limit(200))
    return [DeliveryOut.model_validate(r, from_attributes=True) for r in rows]


def enqueue(session: Session, event: str, data: dict[str, Any]) -> int:
    """Queue `event` for every matching subscription, in the caller's transaction."""
    count = 0
    for hook in session.scalars(select(Webhook).where(Webhook.active.is_(True))):
        if hook.events and event not in hook.events:
            continue
        session.add(WebhookDelivery(webhook_id=hook.id, event=event,
                                    payload={"event": event, "at": utcnow().isoformat(),
                                             "data": jsonable(data)},
                                    created_at=utcnow(), next_attempt_at=utcnow()))
        count += 1
    return count


def _out(row: Webhook) -> WebhookOut:
    return WebhookOut(id=row.id, url=row.url, events=list(row.events), active=row.active,
                      created_by=row.created_by, created_at=row.created_at)
