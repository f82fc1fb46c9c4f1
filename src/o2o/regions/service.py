"""Regions: list, look up, create."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.errors import Conflict, InvalidInput
from o2o.regions.exceptions import RegionNotFound, UnknownRegion
from o2o.regions.models import Region
from o2o.regions.schemas import Bounds, LatLng, RegionCreate, RegionRead


def to_read(region: Region) -> RegionRead:
    return RegionRead(
        id=region.id,
        code=region.code,
        name=region.name,
        name_zh=region.name_zh,
        timezone=region.timezone,
        currency=region.currency,
        center=LatLng(lat=region.center_lat, lng=region.center_lng),
        bounds=Bounds(
            min_lat=region.min_lat,
            min_lng=region.min_lng,
            max_lat=region.max_lat,
            max_lng=region.max_lng,
        ),
    )


async def list_regions(session: AsyncSession) -> list[Region]:
    """Active regions, by code."""
    rows = await session.scalars(
        select(Region).where(Region.is_active.is_(True)).order_by(Region.code)
    )
    return list(rows)


async def get_region(session: AsyncSession, *, region_id: int) -> Region:
    region = await session.get(Region, region_id)
    if region is None:
        raise RegionNotFound(f"No region with id {region_id}.")
    return region


async def get_region_by_code(session: AsyncSession, *, code: str) -> Region:
    """The region with this code; an unknown code is the caller's input error."""
    region = await session.scalar(select(Region).where(Region.code == code))
    if region is None:
        raise UnknownRegion(
            f"There is no region '{code}'. GET /api/v1/regions lists them.", field="region"
        )
    return region


async def create_region(session: AsyncSession, *, data: RegionCreate) -> Region:
    """Add a city. The timezone must be an IANA name; the centre must lie within the bounds."""
    try:
        ZoneInfo(data.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"Unknown timezone '{data.timezone}'.", field="timezone") from exc
    b = data.bounds
    if not (b.min_lat < b.max_lat and b.min_lng < b.max_lng):
        raise InvalidInput("Bounds must have min < max.", field="bounds")
    if not (
        b.min_lat <= data.center.lat <= b.max_lat and b.min_lng <= data.center.lng <= b.max_lng
    ):
        raise InvalidInput("The centre must lie within the bounds.", field="center")
    if await session.scalar(select(Region.id).where(Region.code == data.code)) is not None:
        raise Conflict(f"A region with code '{data.code}' exists.", field="code")
    region = Region(
        code=data.code,
        name=data.name,
        name_zh=data.name_zh,
        timezone=data.timezone,
        currency=data.currency,
        center_lat=data.center.lat,
        center_lng=data.center.lng,
        min_lat=b.min_lat,
        min_lng=b.min_lng,
        max_lat=b.max_lat,
        max_lng=b.max_lng,
    )
    session.add(region)
    await session.flush()
    return region
