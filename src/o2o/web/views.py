"""Small view helpers shared by the page routes: the shopper's region, hours tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.clock import utcnow
from o2o.merchants.hours import hhmm
from o2o.regions import service as regions_service
from o2o.regions.models import Region
from o2o.web import deps


async def regions(session: AsyncSession) -> list[Region]:
    return await regions_service.list_regions(session)


def region_at(all_regions: list[Region], lat: float, lng: float) -> Region | None:
    """The region whose bounds hold the point (the smallest, if several do)."""
    inside = [
        r for r in all_regions if r.min_lat <= lat <= r.max_lat and r.min_lng <= lng <= r.max_lng
    ]
    return min(
        inside, key=lambda r: (r.max_lat - r.min_lat) * (r.max_lng - r.min_lng), default=None
    )


def remembered_region(request: Request, all_regions: list[Region]) -> Region | None:
    code = request.cookies.get(deps.REGION_COOKIE)
    return next((r for r in all_regions if r.code == code), None)


def remember_region(request: Request, region: Region) -> None:
    if request.cookies.get(deps.REGION_COOKIE) != region.code:
        deps.state(request).cookies.append(
            deps.PendingCookie(deps.REGION_COOKIE, region.code, httponly=False)
        )


@dataclass(frozen=True)
class DayHours:
    weekday: int  # 0 = Monday
    spans: list[str]
    today: bool


def week_table(week: list[list[list[int]]], today: int) -> list[DayHours]:
    """Opening hours per weekday as ``10:00–22:00`` strings (local time, as stored)."""
    return [
        DayHours(i, [f"{hhmm(a)}–{hhmm(b)}" for a, b in day], i == today)
        for i, day in enumerate(week)
    ]


def format_day(spans: list[list[int]]) -> str:
    """Hours of one day for an input field: ``10:00-14:00, 17:00-22:00``."""
    return ", ".join(f"{hhmm(a)}-{hhmm(b) if b != 1440 else '24:00'}" for a, b in spans)


def parse_day(text: str) -> list[list[int]]:
    """Parse ``10:00-22:00, 23:00-02:00`` (closing past midnight allowed); '' means closed.

    Raises ``ValueError`` with a short English reason; callers show their own message.
    """
    spans: list[list[int]] = []
    for raw in text.replace("，", ",").split(","):
        part = raw.strip().replace("–", "-").replace("—", "-")
        if not part:
            continue
        start_text, sep, end_text = part.partition("-")
        if not sep:
            raise ValueError(part)
        start, end = _minutes(start_text), _minutes(end_text)
        if end <= start:
            end += 1440
        spans.append([start, end])
    return spans


def _minutes(text: str) -> int:
    hours_text, _, minutes_text = text.strip().partition(":")
    hours, minutes = int(hours_text), int(minutes_text or "0")
    if not (0 <= hours <= 24 and 0 <= minutes < 60) or (hours == 24 and minutes):
        raise ValueError(text)
    return hours * 60 + minutes


def closing_today(week: list[list[list[int]]], local_now: datetime) -> str | None:
    """When the store closes, if it is open at ``local_now`` (store-local time): ``21:30``."""
    minute = local_now.hour * 60 + local_now.minute
    today, yesterday = week[local_now.weekday()], week[(local_now.weekday() - 1) % 7]
    for start, end in today:
        if start <= minute < end:
            return hhmm(end)
    for start, end in yesterday:
        if start <= minute + 1440 < end:
            return hhmm(end - 1440)
    return None


def local_time(region: Region) -> datetime:
    return utcnow().astimezone(ZoneInfo(region.timezone))
