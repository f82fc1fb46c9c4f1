"""How a refund is shown to operators (the admin API, the CLI)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from o2o.payments.models import Refund


class RefundRead(BaseModel):
    id: int
    payment_id: int
    request_no: str
    amount: int
    status: str
    attempts: int
    last_error: str
    provider_refund_no: str | None
    created_at: datetime
    completed_at: datetime | None


def refund_read(row: Refund) -> RefundRead:
    return RefundRead(
        id=row.id,
        payment_id=row.payment_id,
        request_no=row.request_no,
        amount=row.amount,
        status=row.status.value,
        attempts=row.attempts,
        last_error=row.last_error,
        provider_refund_no=row.provider_refund_no,
        created_at=row.created_at,
        completed_at=row.completed_at,
    )
