"""What the courier and tracking APIs read and answer."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, Field

from o2o.delivery.models import Vehicle


class ShiftIn(BaseModel):
    on: bool
    region_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    vehicle: Vehicle | None = None


class PositionIn(BaseModel):
    # Ranges are checked by the service, which answers with its own codes.
    lat: float
    lng: float
    at: AwareDatetime


class PositionsIn(BaseModel):
    positions: list[PositionIn] = Field(min_length=1, max_length=100)


class PositionsRead(BaseModel):
    accepted: int
    moved: bool
    stale: bool


class CodeIn(BaseModel):
    code: str = Field(min_length=1, max_length=32)


class FailIn(BaseModel):
    reason: str = Field(default="customer unreachable", max_length=300)


class Place(BaseModel):
    name: str
    address: str
    lat: float | None
    lng: float | None


class TaskRead(BaseModel):
    delivery_id: int
    order_id: int
    status: str
    order_status: str
    accepted: bool
    store: Place
    dropoff: Place
    assigned_at: datetime | None
    picked_up_at: datetime | None
    promised_at: datetime | None
    navigate_url: str | None


class EarningsRead(BaseModel):
    deliveries: int
    per_delivery: int
    minutes_on_shift: int
    guaranteed: int
    top_up: int
    total: int
    currency: str


class PositionRead(BaseModel):
    lat: float
    lng: float
    at: datetime


class CourierMe(BaseModel):
    user_id: int
    display_name: str
    region_id: int
    vehicle: Vehicle
    speed_m_per_s: float
    on_shift: bool
    shift_started_at: datetime | None
    stale: bool
    open_count: int
    last_position: PositionRead | None
    tasks: list[TaskRead]
    earnings_today: EarningsRead


class CourierBrief(BaseModel):
    name: str
    phone: str | None  # masked
    vehicle: Vehicle


class TrackingRead(BaseModel):
    order_id: int
    order_status: str
    delivery_id: int | None
    delivery_status: str | None
    courier: CourierBrief | None
    position: PositionRead | None
    eta_seconds: int | None
    eta_at: datetime | None
    promised_at: datetime | None
    delivery_code: str | None


# -- the operator's dispatch board ------------------------------------------------------------
class BoardCourier(BaseModel):
    courier_id: int
    name: str
    vehicle: Vehicle
    position: PositionRead | None
    position_age_seconds: int | None
    stale: bool
    state: str  # idle, busy (holds a delivery) or stale (not heard from lately)
    open_count: int  # deliveries held or carried, at most the bundle limit
    room: int  # how many more it may be given
    delivery_ids: list[int]


class BoardDelivery(BaseModel):
    delivery_id: int
    order_id: int
    status: str  # requested, assigned, picked_up
    order_status: str
    store_id: int
    store: Place
    store_name_zh: str
    dropoff: Place
    courier_id: int | None
    courier_name: str | None
    accepted: bool
    placed_at: datetime
    ready_at: datetime  # the store's estimate until it marks the order ready
    ready: bool
    promised_at: datetime
    assigned_at: datetime | None
    picked_up_at: datetime | None
    eta_at: datetime | None  # the projected hand-over
    minutes_late: float  # now against the promise (negative: minutes to spare)
    projected_minutes_late: float | None  # the projected hand-over against the promise
    lateness: str  # on_time, at_risk or late


class DispatchBoard(BaseModel):
    region_id: int
    region_name: str
    region_name_zh: str
    center: Place
    at: datetime
    bundle_limit: int
    couriers: list[BoardCourier]
    deliveries: list[BoardDelivery]  # most late first


class ReassignIn(BaseModel):
    courier_id: int | None = Field(
        ge=1,
        le=2**63 - 1,
        description="The courier to give the delivery to; null sends it back to dispatch "
        "(the courier holding it loses it, and the next round may assign it again).",
    )


class ReassignRead(BaseModel):
    delivery_id: int
    order_id: int
    status: str
    courier_id: int | None
    previous_courier_id: int | None
