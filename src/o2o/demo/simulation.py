"""The demo's moving parts in one loop: simulated store staff and couriers, ticking every
couple of seconds until stopped (inside ``o2o demo``, or ``o2o fleet`` beside a server)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from o2o.core.broker import Broker
from o2o.core.clock import utcnow
from o2o.core.db import Database
from o2o.delivery.policy import CourierPolicy
from o2o.demo import riders
from o2o.demo.fleet import Fleet
from o2o.demo.staff import StoreStaff
from o2o.payments.service import Providers

log = logging.getLogger("o2o.demo")
TICK_SECONDS = 2.0
# Logins a person plays: their stores' orders are moved by hand.
HANDS_ON = ("clerk@demo.o2o",)


@dataclass
class Simulation:
    fleet: Fleet
    staff: StoreStaff
    tick_seconds: float = TICK_SECONDS

    async def tick(self, now: datetime) -> None:
        await self.staff.tick(now)
        await self.fleet.tick(now)

    async def run(self, stop: asyncio.Event, *, clock: Callable[[], datetime] = utcnow) -> None:
        """Tick until ``stop`` is set; a failing tick is logged, never fatal."""
        while not stop.is_set():
            try:
                await self.tick(clock())
            except Exception:
                log.exception("simulation tick failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.tick_seconds)


async def load(
    db: Database,
    *,
    broker: Broker,
    policy: CourierPolicy,
    providers: Providers,
    speedup: float = 3.0,
    kick: Callable[[], None] = lambda: None,
) -> Simulation:
    """The seeded riders and simulated staff of the demo database."""
    async with db.session() as session:
        found = await riders.riders(session)
        actors = await riders.simulated_staff(session)
        hands_on = await riders.hands_on_stores(session, emails=HANDS_ON)
    fleet = Fleet.of(
        found, db=db, broker=broker, policy=policy, speedup=speedup, providers=providers, kick=kick
    )
    staff = StoreStaff(db, providers, actors, hands_on, speedup=speedup, kick=kick)
    log.info("demo simulation: %d riders, staff at %d merchants", len(found), len(actors))
    return Simulation(fleet, staff)
