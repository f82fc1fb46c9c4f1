"""What the settlement and commission API reads and writes (amounts in minor units)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from o2o.ledger.queries.refunds import RefundLine
from o2o.ledger.queries.statements import Line, Totals


class TotalsRead(BaseModel):
    currency: str
    orders: int = Field(description="Orders sold")
    gross_sales: int = Field(description="Paid by shoppers for them")
    refunds: int = Field(description="Given back to shoppers")
    commission: int = Field(description="Charged on the sales")
    commission_reversed: int = Field(description="Given back with the refunds")
    net_payable: int = Field(description="Owed to the merchant: sales − refunds − net commission")

    @classmethod
    def of(cls, t: Totals) -> TotalsRead:
        return cls(
            currency=t.currency,
            orders=t.orders,
            gross_sales=t.gross_sales,
            refunds=t.refunds,
            commission=t.commission,
            commission_reversed=t.commission_reversed,
            net_payable=t.net_payable,
        )


class SettlementDayRead(TotalsRead):
    date: date


class SettlementsRead(BaseModel):
    merchant_id: int
    period_from: date = Field(serialization_alias="from")
    period_to: date = Field(serialization_alias="to")
    commission_bps: int = Field(description="The merchant's rate for sales from now on")
    days: list[SettlementDayRead]
    totals: list[TotalsRead] = Field(description="The whole period, per currency")


class StatementLineRead(BaseModel):
    kind: str = Field(description="sale or refund")
    order_id: int
    refund_id: int | None
    occurred_at: datetime
    local_time: str = Field(description="In the region's time, ISO 8601 with the offset")
    currency: str
    amount: int = Field(description="Paid (sale) or given back (refund)")
    commission: int = Field(description="Charged (sale) or given back (refund)")
    net: int = Field(description="Credited to the merchant (sale) or taken back (refund)")
    note: str

    @classmethod
    def of(cls, line: Line) -> StatementLineRead:
        return cls(
            kind=line.kind,
            order_id=line.order_id,
            refund_id=line.refund_id,
            occurred_at=line.occurred_at,
            local_time=line.local_time.isoformat(timespec="seconds"),
            currency=line.currency,
            amount=line.amount,
            commission=line.commission,
            net=line.net,
            note=line.memo,
        )


class StatementRead(BaseModel):
    merchant_id: int
    date: date
    totals: list[TotalsRead]
    lines: list[StatementLineRead]


class RefundRead(BaseModel):
    refund_id: int | None
    order_id: int
    date: date
    occurred_at: datetime
    local_time: str
    currency: str
    amount: int = Field(description="Given back to the shopper")
    commission_reversed: int
    merchant_share: int = Field(description="Taken back from what the merchant is owed")
    reason: str

    @classmethod
    def of(cls, r: RefundLine) -> RefundRead:
        return cls(
            refund_id=r.refund_id,
            order_id=r.order_id,
            date=r.business_date,
            occurred_at=r.occurred_at,
            local_time=r.local_time.isoformat(timespec="seconds"),
            currency=r.currency,
            amount=r.amount,
            commission_reversed=r.commission,
            merchant_share=r.merchant_share,
            reason=r.reason,
        )


class CommissionUpdate(BaseModel):
    commission_bps: int | None = Field(
        ge=0, le=10_000, description="Basis points (500 = 5%); null: the platform's default"
    )


class CommissionRead(BaseModel):
    merchant_id: int
    commission_bps: int | None = Field(description="The merchant's own rate, if it has one")
    default_bps: int
    effective_bps: int
