"""Pickup windows fall within the store's hours and after its preparation time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from o2o.orders import windows
from o2o.orders.exceptions import PickupWindowInvalid

TZ = "Asia/Shanghai"  # UTC+8
NINE_TO_SIX = [[[540, 1080]] for _ in range(7)]


def store(**overrides: Any) -> Any:
    data = {"opening_hours": NINE_TO_SIX, "hours_exceptions": {}, "prep_minutes": 30}
    data.update(overrides)
    return SimpleNamespace(**data)


def at(hour: int, minute: int = 0, day: int = 23) -> datetime:
    return datetime(2026, 11, day, hour - 8, minute, tzinfo=UTC)  # local hour -> UTC


def test_earliest_window_runs_from_ready_until_closing() -> None:
    start, end = windows.earliest_window(store(), timezone=TZ, now=at(10, 7))
    assert (start, end) == (at(10, 45), at(18))


def test_after_closing_the_window_is_tomorrow_morning() -> None:
    start, end = windows.earliest_window(store(), timezone=TZ, now=at(17, 50))
    assert (start, end) == (at(9, day=24), at(18, day=24))


def test_closed_day_exception_is_skipped() -> None:
    s = store(hours_exceptions={"2026-11-24": []})
    start, _ = windows.earliest_window(s, timezone=TZ, now=at(19))
    assert start == at(9, day=25)


def test_window_outside_hours_is_refused() -> None:
    with pytest.raises(PickupWindowInvalid):
        windows.check_window(store(), timezone=TZ, now=at(10), start=at(17), end=at(19))


def test_window_before_ready_is_refused_with_earliest() -> None:
    with pytest.raises(PickupWindowInvalid) as err:
        windows.check_window(store(), timezone=TZ, now=at(10), start=at(10, 15), end=at(12))
    assert err.value.extra["earliest"] == at(10, 30).isoformat()


def test_window_past_midnight_hours() -> None:
    late = store(opening_hours=[[[1200, 1560]] for _ in range(7)])  # 20:00-02:00
    start, end = windows.check_window(
        late, timezone=TZ, now=at(21), start=at(23), end=at(23) + timedelta(hours=2)
    )
    assert end - start == timedelta(hours=2)


def test_store_never_open_is_refused() -> None:
    with pytest.raises(PickupWindowInvalid):
        windows.earliest_window(
            store(opening_hours=[[] for _ in range(7)]), timezone=TZ, now=at(10)
        )
