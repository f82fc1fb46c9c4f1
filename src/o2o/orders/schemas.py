"""What the orders API reads and writes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from o2o.orders.models import Fulfilment, OrderStatus

MAX_LINES = 50
# Wide enough for any typo a client makes; the service says what the real bounds are.
_ANY_QTY = Field(ge=-(2**31), le=2**31 - 1)
_ID = Field(ge=1, le=2**63 - 1)


class LineIn(BaseModel):
    variant_id: int = _ID
    qty: int = _ANY_QTY


class PickupWindow(BaseModel):
    start: AwareDatetime
    end: AwareDatetime


class AddressIn(BaseModel):
    text: str = Field(min_length=1, max_length=300, description="Street address, as written")
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)
    contact_name: str = Field(default="", max_length=80)
    phone: str = Field(default="", max_length=32)


class OrderCreate(BaseModel):
    store_id: int | None = Field(
        default=None,
        ge=1,
        le=2**63 - 1,
        description="Required except for shipping, where routing picks the store(s).",
    )
    fulfilment: Fulfilment
    lines: list[LineIn] = Field(max_length=MAX_LINES)
    pickup_window: PickupWindow | None = None
    address: AddressIn | None = None
    note: str = Field(default="", max_length=300)


class CheckoutCreate(BaseModel):
    orders: list[OrderCreate] = Field(min_length=1, max_length=10)


class QuoteRequest(BaseModel):
    store_id: int = _ID
    lines: list[LineIn] = Field(max_length=MAX_LINES)
    address: AddressIn | None = None


class LineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    variant_id: int
    product_id: int
    title: str
    title_zh: str
    sku: str
    attributes: dict[str, str]
    unit_price: int
    qty: int
    line_total: int
    returned_qty: int


class EventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    status: str
    from_status: str | None
    note: str
    at: datetime


class PickupCodeRead(BaseModel):
    code: str
    display: str
    status: str
    qr_url: str


class OrderRead(BaseModel):
    id: int
    checkout_ref: str
    checkout_order_ids: list[int]
    status: OrderStatus
    fulfilment: Fulfilment
    region_id: int
    merchant_id: int
    store_id: int
    store_name: str
    store_name_zh: str
    currency: str
    subtotal: int
    discount: int
    fee: int
    total: int
    refunded: int
    payment_id: int | None
    hold_until: datetime | None
    pickup_window: PickupWindow | None
    address: dict[str, Any] | None
    distance_m: int | None
    promised_at: datetime | None
    reason: str
    created_at: datetime
    paid_at: datetime | None
    ready_at: datetime | None
    lines: list[LineRead]
    events: list[EventRead]
    pickup_code: PickupCodeRead | None = None
    next_actions: list[OrderStatus] = Field(
        default_factory=list, description="Statuses staff may move the order to next"
    )


class OrderPage(BaseModel):
    items: list[OrderRead]
    next_cursor: str | None


class FulfilmentQuote(BaseModel):
    fulfilment: Fulfilment
    available: bool
    reason: str | None = Field(default=None, description="Problem code when not available")
    subtotal: int
    fee: int
    total: int
    currency: str
    ready_at: datetime | None = None
    arrive_by: datetime | None = None
    pickup_window: PickupWindow | None = None


class QuoteRead(BaseModel):
    store_id: int
    options: list[FulfilmentQuote]


class TransitionIn(BaseModel):
    to: OrderStatus
    reason: str = Field(default="", max_length=300)
    own_staff: bool = Field(
        default=False,
        description=(
            "A delivery order going out_for_delivery: the store's own staff carry it even "
            "though a platform courier holds it (that courier is freed). Without it the goods "
            "go to the courier holding the delivery, or, if none does, to the store's staff."
        ),
    )


class CancelIn(BaseModel):
    reason: str = Field(default="", max_length=300)
