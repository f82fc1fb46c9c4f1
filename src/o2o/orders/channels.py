"""Live channels (broker) on which order news is published."""

from __future__ import annotations


def order_channel(order_id: int) -> str:
    return f"orders:order:{order_id}"


def store_channel(store_id: int) -> str:
    return f"orders:store:{store_id}"


def region_channel(region_id: int) -> str:
    """What the region's dispatch board follows: couriers moving, deliveries changing."""
    return f"orders:region:{region_id}"
