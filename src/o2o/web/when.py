"""Times on order pages: stored in UTC, shown in the store's city's time, in the page's language."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton

from o2o.core.clock import utcnow


def local(at: datetime | None, *, timezone: str, locale: str, with_date: bool = True) -> str:
    """``Nov 23, 14:30`` / ``11月23日 14:30``; only ``14:30`` for today or ``with_date=False``."""
    if at is None:
        return ""
    zone = ZoneInfo(timezone)
    there = at.astimezone(zone)
    today = utcnow().astimezone(zone).date() == there.date()
    clock = str(format_skeleton("Hm", there, tzinfo=zone, locale=locale))
    if not with_date or today:
        return clock
    return f"{format_skeleton('MMMd', there, tzinfo=zone, locale=locale)} {clock}"
