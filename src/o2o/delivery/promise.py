"""How long a new delivery order would take, from the load around its store (pure).

A courier has to reach the store before the goods can leave it. When free couriers
outnumber the orders waiting for one, that is the nearest free courier's drive. When they do
not, the new order queues: couriers come free at the rate the fleet completes trips (a trip
carries ``bundle`` orders on average), and the order waits for its place in the queue. The
goods leave at the later of that and the end of preparation, plus the pickup service; the
quote adds the drive to the address and the hand-over (``orders.promise.DeliveryOutlook``).
"""

from __future__ import annotations

from dataclasses import dataclass

from o2o.orders.promise import DeliveryOutlook


@dataclass(frozen=True)
class Load:
    """The delivery load around one store right now."""

    waiting: int  # orders near the store that no courier has yet
    free: int  # couriers near the store on shift, heard from lately, with room for more
    on_shift: int  # all couriers near the store on shift and heard from lately
    approach_m: float  # how far the nearest free courier is (or a typical distance)
    trip_minutes: float  # a courier's minutes per trip: to the store, pickup, drive, hand-over
    speed_m_per_min: float | None = None  # the couriers' mean speed, when known


@dataclass(frozen=True)
class Service:
    """The fleet's constants: speed and the service times at either end."""

    speed_m_per_min: float = 250.0  # an e-bike in city traffic, ~15 km/h
    pickup_minutes: float = 4.0
    dropoff_minutes: float = 2.0  # the hand-over: halfway through the drop-off service
    bundle: float = 1.3  # orders per trip on average when couriers are short


def courier_minutes(load: Load, service: Service) -> float | None:
    """Minutes until a courier is at the store for a new order; None without couriers."""
    if load.on_shift <= 0:
        return None
    approach = load.approach_m / service.speed_m_per_min
    if load.free > load.waiting:
        return approach
    ahead = load.waiting - load.free + 1  # this order's place in the queue
    rate = load.on_shift * service.bundle / max(load.trip_minutes, 1.0)  # orders per minute
    return ahead / rate + approach


def outlook(
    *,
    promise_minutes: int,
    radius_m: int,
    prep_minutes: int,
    load: Load,
    service: Service | None = None,
) -> DeliveryOutlook:
    """The store's outlook under this load. Without couriers on shift nearby the store
    delivers with its own staff, on its own flat promise."""
    service = service or Service()
    courier = courier_minutes(load, service)
    if courier is None:
        return DeliveryOutlook(promise_minutes=promise_minutes, radius_m=radius_m)
    # A store's promise is meant to hold anywhere within its radius when a courier is at hand:
    # what it leaves after the trip is the packing time it counts on for deliveries (a
    # pickup's preparation time may be set longer, to keep pickup windows safe).
    trip = service.pickup_minutes + radius_m / service.speed_m_per_min + service.dropoff_minutes
    packing = min(float(prep_minutes), max(0.0, promise_minutes - trip))
    return DeliveryOutlook(
        promise_minutes=promise_minutes,
        radius_m=radius_m,
        lead_minutes=max(packing, courier) + service.pickup_minutes,
        speed_m_per_min=service.speed_m_per_min,
        service_minutes=service.dropoff_minutes,
    )
