"""The delivery promise: quotes grow with the distance under load, and the reach shrinks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2o.merchants.models import Store
from o2o.orders.exceptions import AddressRequired, DeliveryAreaReduced, OutsideDeliveryRadius
from o2o.orders.promise import DeliveryOutlook, check_delivery
from o2o.orders.schemas import AddressIn

# About 111 m per 0.001° of latitude.
METRES_PER_MILLIDEGREE = 111.19


def _store(radius_m: int = 3000) -> Store:
    return Store(lat=31.23, lng=121.47, delivery_radius_m=radius_m, delivery_minutes=30)


def _north(metres: float) -> AddressIn:
    return AddressIn(text="x", lat=31.23 + metres / METRES_PER_MILLIDEGREE / 1000, lng=121.47)


def test_a_flat_outlook_quotes_the_promise_within_the_radius() -> None:
    flat = DeliveryOutlook(promise_minutes=30, radius_m=3000)
    assert flat.flat
    assert flat.minutes_to(0) == flat.minutes_to(2999) == 30
    assert flat.reach_m == 3000


def test_a_loaded_outlook_rounds_quotes_up_to_five_minutes() -> None:
    busy = DeliveryOutlook(
        promise_minutes=30, radius_m=3000, lead_minutes=21, speed_m_per_min=250, service_minutes=2
    )
    assert busy.minutes_to(0) == 25  # 23 → 25
    assert busy.minutes_to(1000) == 30  # 27 → 30
    assert busy.minutes_to(2500) == 35  # 33 → 35, beyond the promise
    assert busy.reach_m == 1750  # (30 − 21 − 2) × 250


def test_the_reach_never_exceeds_the_radius_and_is_zero_when_nothing_fits() -> None:
    idle = DeliveryOutlook(
        promise_minutes=30, radius_m=3000, lead_minutes=5, speed_m_per_min=250, service_minutes=2
    )
    assert idle.reach_m == 3000
    swamped = DeliveryOutlook(
        promise_minutes=30, radius_m=3000, lead_minutes=45, speed_m_per_min=250, service_minutes=2
    )
    assert swamped.reach_m == 0


@given(
    promise=st.integers(min_value=5, max_value=120),
    lead=st.floats(min_value=0, max_value=150),
    speed=st.floats(min_value=50, max_value=800),
    radius=st.integers(min_value=0, max_value=20_000),
)
def test_every_address_within_reach_is_quoted_within_the_promise(
    promise: int, lead: float, speed: float, radius: int
) -> None:
    outlook = DeliveryOutlook(
        promise_minutes=promise,
        radius_m=radius,
        lead_minutes=lead,
        speed_m_per_min=speed,
        service_minutes=2,
    )
    reach = outlook.reach_m
    assert 0 <= reach <= radius
    if lead + 2 <= promise:
        assert outlook.minutes_to(reach) <= promise
    # One step beyond the reach (when the radius allows it) the promise no longer holds.
    if reach < radius:
        assert lead + 2 + (reach + 1) / speed > promise


def test_check_delivery_names_the_reason_an_address_is_refused() -> None:
    store = _store()
    busy = DeliveryOutlook(
        promise_minutes=30, radius_m=3000, lead_minutes=21, speed_m_per_min=250, service_minutes=2
    )
    assert check_delivery(store, _north(1000), busy) == pytest.approx(1000, abs=2)
    with pytest.raises(DeliveryAreaReduced) as reduced:
        check_delivery(store, _north(2000), busy)
    assert reduced.value.extra["radius_m"] == 1750
    with pytest.raises(OutsideDeliveryRadius):
        check_delivery(store, _north(3500), busy)
    with pytest.raises(AddressRequired):
        check_delivery(store, None, busy)


def test_a_closed_store_does_not_deliver_and_says_when_it_opens() -> None:
    from datetime import UTC, datetime

    from o2o.orders.exceptions import StoreClosed
    from o2o.orders.promise import check_open

    ten_to_ten = [[[600, 1320]]] * 7  # 10:00–22:00 every day
    store = Store(opening_hours=ten_to_ten, hours_exceptions={})
    # 12:00 in Shanghai: open.
    check_open(store, timezone="Asia/Shanghai", now=datetime(2026, 12, 2, 4, 0, tzinfo=UTC))
    # 22:10 in Shanghai: closed until 10:00 tomorrow.
    with pytest.raises(StoreClosed) as closed:
        check_open(store, timezone="Asia/Shanghai", now=datetime(2026, 12, 2, 14, 10, tzinfo=UTC))
    assert closed.value.extra["opens_at"] == "2026-12-03T02:00:00+00:00"
    assert "10:00 (2026-12-03)" in closed.value.detail
