from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class LatLng(BaseModel):
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)


class Bounds(BaseModel):
    min_lat: float
    min_lng: float
    max_lat: float
    max_lng: float


class RegionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    name_zh: str
    timezone: str
    currency: str
    center: LatLng
    bounds: Bounds


class RegionCreate(BaseModel):
    code: str = Field(min_length=2, max_length=32, pattern=r"^[a-z][a-z0-9-]*$")
    name: str = Field(min_length=1, max_length=120)
    name_zh: str = Field(min_length=1, max_length=120)
    timezone: str
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")
    center: LatLng
    bounds: Bounds
