"""What the notifications and webhooks API reads and writes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from o2o.notifications.webhooks import EVENT_TYPES


class NotificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str = Field(description="What happened, e.g. order.ready")
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None


class NotificationPage(BaseModel):
    items: list[NotificationRead]
    unread: int


class WebhookCreate(BaseModel):
    url: str = Field(min_length=1, max_length=2000, examples=["https://example.com/o2o/hooks"])
    events: list[str] = Field(
        default_factory=lambda: list(EVENT_TYPES), max_length=10, examples=[list(EVENT_TYPES)]
    )
    description: str = Field(default="", max_length=200)
    active: bool = True


class WebhookRead(BaseModel):
    """An endpoint as listed: its secret is never shown again after creation."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    merchant_id: int
    url: str
    events: list[str]
    description: str
    active: bool
    created_at: datetime


class WebhookCreated(WebhookRead):
    secret: str = Field(description="Signs every delivery. Shown only in this answer: keep it.")


class WebhookDeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    event_id: str
    event_type: str
    attempt: int
    outcome: str = Field(description="succeeded, retrying, or failed (given up)")
    status_code: int | None
    error: str
    duration_ms: int
    at: datetime


class WebhookPing(BaseModel):
    event_id: str
