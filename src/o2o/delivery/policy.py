"""The live delivery system's rules, built once from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from o2o.core.settings import Settings


@dataclass(frozen=True)
class CourierPolicy:
    round_seconds: float = 30.0  # how often the worker runs a dispatch round
    stale_seconds: float = 120.0  # a courier silent this long is not dispatched to
    accept_seconds: float = 120.0  # an assignment not accepted within this goes back
    skew_seconds: float = 30.0  # a position may be timed this far ahead of our clock
    max_age_seconds: float = 600.0  # older positions are refused
    pay_per_delivery: int = 500  # minor units, per delivery handed over
    hourly_minimum: int = 2500  # minor units per hour on shift, guaranteed
    max_batch: int = 100  # positions per request


def from_settings(settings: Settings) -> CourierPolicy:
    return CourierPolicy(
        round_seconds=settings.dispatch_round_seconds,
        stale_seconds=settings.courier_stale_seconds,
        accept_seconds=settings.courier_accept_seconds,
        skew_seconds=settings.courier_position_skew_seconds,
        max_age_seconds=settings.courier_position_max_age_seconds,
        pay_per_delivery=settings.courier_pay_per_delivery,
        hourly_minimum=settings.courier_hourly_minimum,
    )
