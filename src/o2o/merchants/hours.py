"""Opening hours: is a store open at a given instant, in its region's timezone?

Week hours are seven lists (Monday first) of ``[open, close]`` minutes since local midnight.
``close`` may exceed 1440: 22:00-02:00 is ``[1320, 1560]`` on the day it starts. Exceptions
replace one local date's intervals (``[]`` means closed all day).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from o2o.core.errors import InvalidInput

DAY = 1440


def validate_week(hours: list[list[list[int]]]) -> list[list[list[int]]]:
    """Check the shape and ranges of a week of hours; return it normalised (sorted)."""
    if len(hours) != 7:
        raise InvalidInput("Opening hours need seven days, Monday first.", field="opening_hours")
    return [_validate_day(day, field=f"opening_hours[{i}]") for i, day in enumerate(hours)]


def validate_exceptions(exceptions: dict[str, Any]) -> dict[str, list[list[int]]]:
    out: dict[str, list[list[int]]] = {}
    for key, day in exceptions.items():
        try:
            date.fromisoformat(key)
        except ValueError as exc:
            raise InvalidInput(
                f"'{key}' is not an ISO date (YYYY-MM-DD).", field="hours_exceptions"
            ) from exc
        out[key] = _validate_day(day, field=f"hours_exceptions.{key}")
    return out


def _validate_day(day: Any, *, field: str) -> list[list[int]]:
    if not isinstance(day, list):
        raise InvalidInput("Each day is a list of [open, close] minute pairs.", field=field)
    out: list[list[int]] = []
    for interval in day:
        if (
            not isinstance(interval, list | tuple)
            or len(interval) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in interval)
        ):
            raise InvalidInput("Each interval is [open, close] in minutes.", field=field)
        start, end = interval
        if not (0 <= start < DAY and start < end <= start + DAY):
            raise InvalidInput(
                "Open must be in 0..1439 and close after open, at most 24 hours later.",
                field=field,
            )
        out.append([start, end])
    return sorted(out)


def _intervals_for(day: date, week: list[list[list[int]]], exc: dict[str, Any]) -> list[list[int]]:
    special = exc.get(day.isoformat())
    if special is not None:
        return list(special)
    return week[day.weekday()]


def is_open_at(
    at: datetime, *, timezone: str, week: list[list[list[int]]], exceptions: dict[str, Any]
) -> bool:
    """Whether the store is open at instant ``at`` (aware), judged in local time."""
    local = at.astimezone(ZoneInfo(timezone))
    minute = local.hour * 60 + local.minute
    today = local.date()
    if any(start <= minute < end for start, end in _intervals_for(today, week, exceptions)):
        return True
    # Yesterday's hours that ran past midnight.
    yesterday = today - timedelta(days=1)
    return any(
        start <= minute + DAY < end for start, end in _intervals_for(yesterday, week, exceptions)
    )


def hhmm(minutes: int) -> str:
    minutes %= DAY
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def open_intervals(
    start: datetime,
    *,
    days: int,
    timezone: str,
    week: list[list[list[int]]],
    exceptions: dict[str, Any],
) -> list[tuple[datetime, datetime]]:
    """The store's open periods from the local day before ``start`` for ``days`` days, as
    aware UTC instants, merged where one runs into the next (e.g. past midnight)."""
    zone = ZoneInfo(timezone)
    first = start.astimezone(zone).date() - timedelta(days=1)
    spans: list[tuple[datetime, datetime]] = []
    for offset in range(days + 1):
        day = first + timedelta(days=offset)
        midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
        for open_min, close_min in _intervals_for(day, week, exceptions):
            opens = (midnight + timedelta(minutes=open_min)).astimezone(UTC)
            closes = (midnight + timedelta(minutes=close_min)).astimezone(UTC)
            spans.append((opens, closes))
    merged: list[tuple[datetime, datetime]] = []
    for opens, closes in sorted(spans):
        if merged and opens <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], closes))
        else:
            merged.append((opens, closes))
    return [(a, b) for a, b in merged if b > start]
