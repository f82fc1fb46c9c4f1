from __future__ import annotations

from datetime import UTC, datetime

import pytest

from o2o.core.errors import InvalidInput
from o2o.merchants.hours import is_open_at, validate_exceptions, validate_week

NINE_TO_NINE = [[[540, 1260]] for _ in range(7)]
# Open 18:00 to 02:00 every day.
LATE = [[[1080, 1560]] for _ in range(7)]


def at(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=UTC)


def test_open_in_local_time_not_utc() -> None:
    # 02:00 UTC is 10:00 in Shanghai: open; 14:00 UTC is 22:00 there: closed.
    assert is_open_at(at(2026, 3, 2, 2), timezone="Asia/Shanghai", week=NINE_TO_NINE, exceptions={})
    assert not is_open_at(
        at(2026, 3, 2, 14), timezone="Asia/Shanghai", week=NINE_TO_NINE, exceptions={}
    )


def test_hours_past_midnight_count_on_the_next_day() -> None:
    # Tuesday 01:30 local (Monday 17:30 UTC) falls in Monday's 18:00-02:00.
    assert is_open_at(at(2026, 3, 2, 17, 30), timezone="Asia/Shanghai", week=LATE, exceptions={})
    # 02:00 local exactly is closing time.
    assert not is_open_at(at(2026, 3, 2, 18, 0), timezone="Asia/Shanghai", week=LATE, exceptions={})


def test_closed_yesterday_means_no_carry_over() -> None:
    week = [list(d) for d in LATE]
    week[0] = []  # closed on Mondays
    assert not is_open_at(
        at(2026, 3, 2, 17, 30), timezone="Asia/Shanghai", week=week, exceptions={}
    )


def test_exception_closes_a_day() -> None:
    exc = validate_exceptions({"2026-03-02": []})
    assert not is_open_at(
        at(2026, 3, 2, 2), timezone="Asia/Shanghai", week=NINE_TO_NINE, exceptions=exc
    )
    assert is_open_at(
        at(2026, 3, 3, 2), timezone="Asia/Shanghai", week=NINE_TO_NINE, exceptions=exc
    )


def test_dst_zone_uses_local_wall_clock() -> None:
    # New York, summer (UTC-4): 13:30 UTC is 09:30 local.
    assert is_open_at(
        at(2026, 7, 1, 13, 30), timezone="America/New_York", week=NINE_TO_NINE, exceptions={}
    )
    assert not is_open_at(
        at(2026, 7, 1, 12, 30), timezone="America/New_York", week=NINE_TO_NINE, exceptions={}
    )


@pytest.mark.parametrize(
    "week",
    [
        [[[540, 1260]]] * 6,
        [[[1500, 1600]]] * 7,
        [[[600, 500]]] * 7,
        [[[0, 1441]]] + [[]] * 6,
        [[["9", "21"]]] * 7,
        [[[540]]] * 7,
    ],
)
def test_bad_weeks_are_refused(week: list) -> None:  # type: ignore[type-arg]
    with pytest.raises(InvalidInput):
        validate_week(week)


def test_bad_exception_date_is_refused() -> None:
    with pytest.raises(InvalidInput):
        validate_exceptions({"tomorrow": []})
