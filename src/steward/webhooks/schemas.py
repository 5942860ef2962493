"""Request and response models of webhooks."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator


class WebhookCreate(BaseModel):
    """A new subscription; the secret is generated when not given and shown once."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=500)
    events: list[str] = Field(default_factory=list)
    secret: str | None = Field(default=None, min_length=16, max_length=200)

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return url


class WebhookOut(BaseModel):
    """A subscription without its secret."""

    id: int
    url: str
    events: list[str]
    active: bool
    created_by: str
    created_at: datetime


class WebhookCreated(WebhookOut):
    """Just created: the only time the secret is returned."""

    secret: str


class DeliveryOut(BaseModel):
    """One delivery's state."""

    id: int
    webhook_id: int
    event: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
