"""The live delivery system's pure rules: pay, projection, phone masking, position checks."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from o2o.delivery.earnings import earnings, minutes_on_shift
from o2o.delivery.exceptions import PositionInFuture, PositionOutOfRange, PositionTooOld
from o2o.delivery.policy import CourierPolicy
from o2o.delivery.positions import Fix, check
from o2o.delivery.projection import Plane
from o2o.delivery.tracking import mask_phone

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
POLICY = CourierPolicy(pay_per_delivery=500, hourly_minimum=2400)


def test_the_hourly_minimum_tops_up_a_slow_shift_only() -> None:
    slow = earnings(deliveries=2, minutes=90, policy=POLICY)
    assert (slow.per_delivery, slow.guaranteed, slow.top_up, slow.total) == (1000, 3600, 2600, 3600)
    busy = earnings(deliveries=10, minutes=60, policy=POLICY)
    assert (busy.per_delivery, busy.guaranteed, busy.top_up, busy.total) == (5000, 2400, 0, 5000)


def test_minutes_on_shift_are_clipped_to_the_day_and_open_shifts_run_to_now() -> None:
    day = NOW.replace(hour=0)
    shifts = [
        (day - timedelta(hours=1), day + timedelta(minutes=30)),  # began yesterday
        (NOW - timedelta(minutes=45), None),  # still on
    ]
    assert minutes_on_shift(shifts, start=day, end=NOW) == 30 + 45


def test_the_plane_is_metres_around_the_centre() -> None:
    plane = Plane(31.23, 121.47)
    north = plane.point(31.23 + 1000 / 111_195.0, 121.47)
    assert (north.x, north.y) == (0.0, pytest.approx(1000.0))
    east = plane.point(31.23, 121.47 + 0.01)
    assert east.x == pytest.approx(0.01 * 111_195.0 * math.cos(math.radians(31.23)))


def test_phones_are_masked() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+8613812345678") == "+86*******5678"
    assert mask_phone("12345") == "*****"
    assert mask_phone(None) is None


@pytest.mark.parametrize(
    ("fix", "error"),
    [
        (Fix(90.5, 0.0, NOW), PositionOutOfRange),
        (Fix(0.0, 181.0, NOW), PositionOutOfRange),
        (Fix(math.nan, 0.0, NOW), PositionOutOfRange),
        (Fix(0.0, 0.0, NOW + timedelta(seconds=31)), PositionInFuture),
        (Fix(0.0, 0.0, NOW - timedelta(seconds=601)), PositionTooOld),
    ],
)
def test_bad_positions(fix: Fix, error: type[Exception]) -> None:
    with pytest.raises(error):
        check([Fix(0.0, 0.0, NOW), fix], now=NOW, policy=POLICY)


def test_positions_within_the_skew_and_the_age_pass() -> None:
    check(
        [
            Fix(-90.0, -180.0, NOW + timedelta(seconds=30)),
            Fix(90, 180, NOW - timedelta(seconds=600)),
        ],
        now=NOW,
        policy=POLICY,
    )
