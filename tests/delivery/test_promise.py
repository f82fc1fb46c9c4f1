"""The load model behind the delivery quote: free couriers, the queue, preparation."""

from __future__ import annotations

import pytest

from o2o.delivery.promise import Load, Service, courier_minutes, outlook

SERVICE = Service(speed_m_per_min=250, pickup_minutes=4, dropoff_minutes=2, bundle=1.0)


def _load(**change: float) -> Load:
    values: dict[str, float] = {
        "waiting": 0,
        "free": 3,
        "on_shift": 5,
        "approach_m": 1000,
        "trip_minutes": 30,
    }
    values.update(change)
    return Load(
        waiting=int(values["waiting"]),
        free=int(values["free"]),
        on_shift=int(values["on_shift"]),
        approach_m=values["approach_m"],
        trip_minutes=values["trip_minutes"],
    )


def test_with_a_free_courier_the_wait_is_its_drive_to_the_store() -> None:
    assert courier_minutes(_load(), SERVICE) == pytest.approx(4.0)


def test_when_orders_outnumber_free_couriers_a_new_order_queues() -> None:
    # 7 waiting, 3 free: 5th in the queue; 5 couriers finish a 30-minute trip each → 1 per 6 min.
    assert courier_minutes(_load(waiting=7), SERVICE) == pytest.approx(5 * 6 + 4)
    # Bundling carries more orders per trip, so the queue moves faster.
    bundled = Service(speed_m_per_min=250, pickup_minutes=4, dropoff_minutes=2, bundle=2.0)
    assert courier_minutes(_load(waiting=7), bundled) == pytest.approx(5 * 3 + 4)


def test_without_couriers_on_shift_there_is_no_estimate() -> None:
    assert courier_minutes(_load(on_shift=0, free=0), SERVICE) is None


def test_preparation_bounds_the_lead_when_couriers_are_plentiful() -> None:
    calm = outlook(
        promise_minutes=30, radius_m=3000, prep_minutes=10, load=_load(), service=SERVICE
    )
    assert calm.lead_minutes == pytest.approx(14)  # prep 10 (courier there in 4), pickup 4
    assert calm.reach_m == 3000  # (30 − 14 − 2) × 250 = 3500, capped by the radius
    assert calm.minutes_to(3000) == 30  # 14 + 12 + 2 = 28 → rounds to the promise


def test_a_busy_fleet_shrinks_the_area_and_lengthens_the_quote() -> None:
    busy = outlook(
        promise_minutes=30, radius_m=3000, prep_minutes=10, load=_load(waiting=4), service=SERVICE
    )
    # 2nd in the queue: 2 × 6 + 4 = 16 min until a courier is there, + 4 pickup = 20.
    assert busy.lead_minutes == pytest.approx(20)
    assert busy.reach_m == 2000
    assert busy.minutes_to(1000) == 30
    assert busy.minutes_to(2500) == 35


def test_a_store_without_platform_couriers_keeps_its_flat_promise() -> None:
    own_staff = outlook(
        promise_minutes=45,
        radius_m=5000,
        prep_minutes=10,
        load=_load(on_shift=0, free=0, waiting=9),
        service=SERVICE,
    )
    assert own_staff.flat
    assert own_staff.minutes_to(4000) == 45
    assert own_staff.reach_m == 5000


def test_a_long_pickup_preparation_does_not_break_the_delivery_promise() -> None:
    # Pickup ready after 30 min, but a free courier at hand: the promise of 30 min within 3 km
    # leaves 30 − (4 + 12 + 2) = 12 min to pack, which is what deliveries count on.
    calm = outlook(
        promise_minutes=30, radius_m=3000, prep_minutes=30, load=_load(), service=SERVICE
    )
    assert calm.lead_minutes == pytest.approx(12 + 4)
    assert calm.reach_m == 3000
    assert calm.minutes_to(3000) == 30
