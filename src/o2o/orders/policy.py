"""Platform-wide order rules that operators tune (from settings, through ``create_app``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from o2o.orders.promise import OutlookSource, flat_outlook


@dataclass(frozen=True)
class OrderPolicy:
    # From checkout until payment, the units stay reserved this long.
    reservation_ttl: timedelta = timedelta(minutes=15)
    # A pickup order not collected by the end of its window plus this is cancelled, refunded.
    pickup_grace: timedelta = timedelta(hours=24)
    # Shipping promise: days after payment.
    shipping_days: int = 3
    # Handed-over goods can be returned or exchanged in store this long after the hand-over.
    return_window: timedelta = timedelta(days=30)
    # Commission (basis points) on an order paid online, for merchants without their own rate.
    commission_bps_default: int = 500
    # When a delivery would arrive and how far each store delivers now (the delivery domain's
    # view of the load, wired in ``create_app``; the store's flat promise without it).
    delivery_outlook: OutlookSource = flat_outlook
