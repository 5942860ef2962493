"""Background delivery of the outbox: claim, POST signed, retry with backoff, give up."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from steward.db import utcnow
from steward.periodic import Periodic
from steward.webhooks import signing
from steward.webhooks.service import open_secret
from steward.webhooks.tables import Webhook, WebhookDelivery

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)  # a claimed delivery is retried if its worker dies


@dataclass(frozen=True)
class _Claim:
    id: int
    url: str
    secret: str
    event: str
    body: bytes
    attempts: int


class WebhookSender:
    """Delivers pending webhook events; safe with several workers (claims are leased)."""

    def __init__(self, factory: sessionmaker[Session], key: bytes, *, max_attempts: int = 6,
                 interval_s: float = 1.0, timeout_s: float = 5.0) -> None:
        self._factory = factory
        self._key = key
        self._max = max_attempts
        self._interval = interval_s
        self._timeout = timeout_s
        self._periodic = Periodic("steward-webhooks", self._interval, self.deliver_once)

    def __repr__(self) -> str:
        return "WebhookSender()"

    def deliver_once(self, now: datetime | None = None) -> int:
        """Send every due delivery once; return how many succeeded."""
        now = now or utcnow()
        claims = self._claim(now)
        if not claims:  # the usual case: no client (TLS context, pool) built every second
            return 0
        ok = 0
        with httpx.Client(timeout=self._timeout, follow_redirects=False) as client:
            for c in claims:
                error = self._post(client, c)
                self._settle(c, error, now)
                ok += error is None
        return ok

    def _claim(self, now: datetime) -> list[_Claim]:
        with self._factory() as session, session.begin():
            stmt = (select(WebhookDelivery, Webhook).join(Webhook)
                    .where(WebhookDelivery.status == "pending",
                           WebhookDelivery.next_attempt_at <= now)
                    .order_by(WebhookDelivery.id).limit(50))
            if session.get_bind().dialect.name == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True, of=WebhookDelivery)
            claims = []
            for d, hook in session.execute(stmt):
                d.attempts += 1
                d.next_attempt_at = now + LEASE
                body = json.dumps({"id": d.id, **d.payload}, sort_keys=True).encode()
                claims.append(_Claim(d.id, hook.url, open_secret(hook.secret_enc, self._key),
                                     d.event, body, d.attempts))
            return claims

    def _post(self, client: httpx.Client, c: _Claim) -> str | None:
        timestamp = str(int(time.time()))
        headers = {"content-type": "application/json", "X-Steward-Event": c.event,
                   "X-Steward-Delivery": str(c.id), signing.TIMESTAMP_HEADER: timestamp,
                   signing.SIGNATURE_HEADER: signing.sign(c.secret, timestamp, c.body)}
        try:
            response = client.post(c.url, content=c.body, headers=headers)
        except httpx.HTTPError as exc:
            return f"{exc.__class__.__name__}"
        return None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"

    def _settle(self, c: _Claim, error: str | None, now: datetime) -> None:
        with self._factory() as session, session.begin():
            d = session.get(WebhookDelivery, c.id)
            if d is None:
                return
            if error is None:
                d.status, d.delivered_at, d.last_error = "delivered", utcnow(), None
            elif c.attempts >= self._max:
                d.status, d.last_error = "failed", error
            else:  # exponential backoff: 2, 4, 8 ... seconds, at most 5 minutes
                d.last_error = error
                d.next_attempt_at = now + timedelta(seconds=min(300, 2 ** c.attempts))

    def start(self) -> None:
        """Start the background sender."""
        self._periodic.start()

    def stop(self) -> None:
        """Stop the sender (undelivered events stay in the outbox)."""
        self._periodic.stop()
