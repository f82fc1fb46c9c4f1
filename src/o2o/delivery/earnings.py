"""A courier's pay for a day (pure): a fee per delivery handed over, topped up to a
guaranteed hourly minimum over the time on shift that day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from o2o.delivery.policy import CourierPolicy


@dataclass(frozen=True)
class Earnings:
    deliveries: int
    per_delivery: int  # the fees of the deliveries handed over
    minutes_on_shift: int
    guaranteed: int  # the hourly minimum over those minutes
    top_up: int  # what the guarantee adds to the fees
    total: int


def minutes_on_shift(
    shifts: list[tuple[datetime, datetime | None]], *, start: datetime, end: datetime
) -> int:
    """Whole minutes of the shifts inside [start, end) (an open shift runs until ``end``)."""
    seconds = 0.0
    for began, ended in shifts:
        lo, hi = max(began, start), min(ended or end, end)
        seconds += max(0.0, (hi - lo).total_seconds())
    return int(seconds // 60)


def earnings(*, deliveries: int, minutes: int, policy: CourierPolicy) -> Earnings:
    fees = deliveries * policy.pay_per_delivery
    guaranteed = policy.hourly_minimum * minutes // 60
    top_up = max(0, guaranteed - fees)
    return Earnings(deliveries, fees, minutes, guaranteed, top_up, fees + top_up)
