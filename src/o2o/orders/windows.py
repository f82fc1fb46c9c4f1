"""Pickup windows: when a click & collect order can be picked up, within the store's hours."""

from __future__ import annotations

from datetime import datetime, timedelta

from o2o.merchants import hours
from o2o.merchants.models import Store
from o2o.orders.exceptions import PickupWindowInvalid

STEP = timedelta(minutes=15)
MIN_WINDOW = timedelta(minutes=30)
MAX_WINDOW = timedelta(hours=24)
LOOKAHEAD_DAYS = 8


def _ceil(at: datetime) -> datetime:
    floor = at.replace(minute=at.minute - at.minute % 15, second=0, microsecond=0)
    return floor if floor == at else floor + STEP


def _periods(store: Store, timezone: str, now: datetime) -> list[tuple[datetime, datetime]]:
    return hours.open_intervals(
        now,
        days=LOOKAHEAD_DAYS,
        timezone=timezone,
        week=store.opening_hours,
        exceptions=store.hours_exceptions,
    )


def earliest_window(store: Store, *, timezone: str, now: datetime) -> tuple[datetime, datetime]:
    """From when the order can be ready until the store closes (skipping periods that leave
    less than half an hour)."""
    ready = _ceil(now + timedelta(minutes=store.prep_minutes))
    for opens, closes in _periods(store, timezone, now):
        start = max(opens, ready)
        if closes - start >= MIN_WINDOW:
            return start, min(closes, start + MAX_WINDOW)
    raise PickupWindowInvalid(
        "The store has no opening hours in the coming week; choose another store.",
        field="pickup_window",
    )


def check_window(
    store: Store, *, timezone: str, now: datetime, start: datetime, end: datetime
) -> tuple[datetime, datetime]:
    """The window if the store is open all through it and can have the order ready by its
    start; otherwise a ``pickup_window_invalid`` error that says what would work."""
    earliest, _ = earliest_window(store, timezone=timezone, now=now)
    if end <= start or end - start > MAX_WINDOW:
        raise PickupWindowInvalid(
            "The pickup window must end after it starts, within 24 hours.",
            field="pickup_window",
        )
    if start < earliest:
        raise PickupWindowInvalid(
            f"The store needs {store.prep_minutes} minutes to prepare: start at "
            f"{earliest.isoformat()} or later.",
            field="pickup_window",
            earliest=earliest.isoformat(),
        )
    inside = any(
        opens <= start and end <= closes for opens, closes in _periods(store, timezone, now)
    )
    if not inside:
        raise PickupWindowInvalid(
            "The store is not open for the whole pickup window; pick a time within its hours.",
            field="pickup_window",
            earliest=earliest.isoformat(),
        )
    return start, end
