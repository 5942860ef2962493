"""Signed webhooks on governance transitions, delivered from a durable outbox with retries."""

from steward.webhooks.sender import WebhookSender
from steward.webhooks.service import enqueue

__all__ = ["WebhookSender", "enqueue"]
