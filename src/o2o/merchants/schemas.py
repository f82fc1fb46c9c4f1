from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

NAME = Field(min_length=1, max_length=160)


class Fulfilment(BaseModel):
    pickup: bool = True
    reserve: bool = False
    delivery: bool = False
    shipping: bool = False
    booking: bool = False
    scan_go: bool = False


class OrderSettings(BaseModel):
    """How a store takes orders; amounts in minor units of the region's currency."""

    model_config = ConfigDict(from_attributes=True)

    prep_minutes: int = Field(default=30, ge=0, le=24 * 60, description="Pickup ready after")
    reserve_hold_minutes: int = Field(default=240, ge=15, le=7 * 24 * 60)
    delivery_fee: int = Field(default=600, ge=0, le=1_000_000)
    delivery_minutes: int = Field(default=30, ge=5, le=24 * 60, description="Delivery promise")
    shipping_fee: int = Field(default=1000, ge=0, le=1_000_000)


class StoreRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    merchant_id: int
    region_id: int
    name: str
    name_zh: str
    address: str
    address_zh: str
    phone: str
    lat: float
    lng: float
    category: str | None = None
    opening_hours: list[list[list[int]]]
    hours_exceptions: dict[str, Any]
    fulfilment: Fulfilment
    delivery_radius_m: int
    rating: float | None = None
    rating_count: int = 0
    open_now: bool | None = None
    merchant_name: str | None = None
    merchant_name_zh: str | None = None


class NearbyStoreRead(StoreRead):
    distance_m: float
    available_qty: int | None = None


class StoreCreate(BaseModel):
    region: str = Field(description="Region code")
    name: str = NAME
    name_zh: str = NAME
    address: str = Field(default="", max_length=300)
    address_zh: str = Field(default="", max_length=300)
    phone: str = Field(default="", max_length=32)
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)
    category: str | None = None
    opening_hours: list[list[list[int]]] = Field(
        default_factory=lambda: [[[600, 1320]] for _ in range(7)]
    )
    hours_exceptions: dict[str, Any] = Field(default_factory=dict)
    fulfilment: Fulfilment = Field(default_factory=Fulfilment)
    delivery_radius_m: int = Field(default=3000, ge=0, le=50_000)
    orders: OrderSettings = Field(default_factory=OrderSettings)


class StoreUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=160)
    name_zh: str | None = Field(default=None, min_length=1, max_length=160)
    address: str | None = Field(default=None, max_length=300)
    address_zh: str | None = Field(default=None, max_length=300)
    phone: str | None = Field(default=None, max_length=32)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lng: float | None = Field(default=None, ge=-180, le=180)
    category: str | None = None
    opening_hours: list[list[list[int]]] | None = None
    hours_exceptions: dict[str, Any] | None = None
    fulfilment: Fulfilment | None = None
    delivery_radius_m: int | None = Field(default=None, ge=0, le=50_000)
    orders: OrderSettings | None = None
    is_active: bool | None = None


class MerchantRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    name_zh: str
    category: str | None = None
    status: str


class CategoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    name_zh: str
    parent_id: int | None
