"""The demo's simulated couriers: each tick, each rider goes on or off shift, reports where
it is, and works its deliveries (accept, drive to the store, pick up once the order is ready,
drive to the door, hand over with the shopper's code), then drifts near home.

Every step goes through the same service functions the couriers' API calls, one short
transaction each, so validation, the trail, publication to trackers and dispatch all run for
real. Riders move ``speedup`` times faster than their vehicle's speed so a delivery takes
minutes, not half an hour. A failing step is logged and tried again next tick.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.broker import Broker
from o2o.core.db import Database
from o2o.core.errors import DomainError
from o2o.delivery import board, couriers, positions, summary, tasks
from o2o.delivery.exceptions import NotReadyForPickup
from o2o.delivery.models import Courier, Delivery, DeliveryStatus
from o2o.delivery.policy import CourierPolicy
from o2o.demo.motion import Point, advance, near, path
from o2o.demo.riders import Rider
from o2o.merchants.models import Store
from o2o.orders.models import Order
from o2o.payments.service import Providers
from o2o.redemption import service as redemption_service
from o2o.redemption.models import CodeKind, CodeStatus

log = logging.getLogger("o2o.demo.fleet")
IDLE_REPORT_TICKS = 5  # an idle rider reports every few ticks: enough to stay fresh
D = DeliveryStatus


@dataclass
class Plan:
    """When a rider works: on after ``start_s`` of simulation, and (for some) off again after
    ``work_s`` on shift, back after ``rest_s``."""

    start_s: float
    work_s: float | None = None
    rest_s: float = 600.0


def plan_for(index: int, rnd: random.Random, *, stagger_s: float = 60.0) -> Plan:
    """Staggered starts; one rider in four takes a break now and then."""
    start = (index % 10) * stagger_s / 10 + rnd.uniform(0, stagger_s / 10)
    if index % 4 == 3:
        return Plan(start, work_s=rnd.uniform(900, 1800), rest_s=rnd.uniform(300, 900))
    return Plan(start)


@dataclass
class SimRider:
    rider: Rider
    plan: Plan
    rnd: random.Random
    here: Point
    goal: Point | None = None
    route: list[Point] = field(default_factory=list)
    on_since: float | None = None
    off_until: float = 0.0
    quiet: int = 0  # ticks since it last reported while idle


@dataclass
class Fleet:
    db: Database
    broker: Broker
    policy: CourierPolicy
    riders: list[SimRider]
    speedup: float = 3.0
    providers: Providers | None = None
    kick: Callable[[], None] = lambda: None
    elapsed: float = 0.0
    last: datetime | None = None

    @classmethod
    def of(cls, riders: list[Rider], **kwargs: object) -> Fleet:
        sims = []
        for i, r in enumerate(riders):
            rnd = random.Random(r.email)
            sims.append(SimRider(r, plan_for(i, rnd), rnd, r.home))
        return cls(riders=sims, **kwargs)  # type: ignore[arg-type]

    async def tick(self, now: datetime) -> None:
        """One step of every rider at ``now``; a rider's failure does not stop the others."""
        seconds = 0.0 if self.last is None else max(0.0, (now - self.last).total_seconds())
        self.last = now
        self.elapsed += seconds
        for sim in self.riders:
            try:
                await self._step(sim, now, seconds)
            except Exception:  # log and go on: the demo keeps moving
                log.exception("rider %s: step failed", sim.rider.email)

    async def _step(self, sim: SimRider, now: datetime, seconds: float) -> None:
        speed = await self._shift(sim, now)
        if speed is None:
            return
        task = await self._task(sim, now)
        goal = task[1] if task else sim.goal
        if goal is None or (task is None and not sim.route):
            goal = near(sim.rider.home, sim.rnd) if sim.rnd.random() < 0.3 else sim.here
        if goal != sim.goal:
            sim.goal, sim.route = goal, path(sim.here, goal, rnd=sim.rnd)
        step = advance(sim.here, sim.route, speed_m_per_s=speed * self.speedup, seconds=seconds)
        sim.here, sim.route = step.at, step.rest
        sim.quiet += 1
        if task is not None or step.moved_m > 0 or sim.quiet >= IDLE_REPORT_TICKS:
            await self._report(sim, now)
        if task is not None and step.arrived:
            await self._act(sim, task[0], now)

    async def _shift(self, sim: SimRider, now: datetime) -> float | None:
        """The rider's speed if it is on shift (after going on or off as its plan says)."""
        user_id = sim.rider.user_id
        async with self.db.session() as session:
            courier = await session.get(Courier, user_id)
            if courier is None:
                return None
            if sim.on_since is None and courier.last_lat is not None:
                sim.here = Point(courier.last_lat, courier.last_lng or sim.here.lng)
            if not courier.on_shift:
                if self.elapsed < max(sim.plan.start_s, sim.off_until):
                    return None
                courier = await couriers.set_shift(session, user_id=user_id, on=True, now=now)
                speed, region_id = courier.speed_m_per_s, courier.region_id
                await session.commit()
                await self.broker.publish(
                    *board.changed(region_id, what="shift", courier_id=user_id)
                )
                sim.on_since, sim.quiet = self.elapsed, IDLE_REPORT_TICKS
                return speed
            if sim.on_since is None:
                sim.on_since = self.elapsed
            work = sim.plan.work_s
            tired = work is not None and self.elapsed - sim.on_since >= work
            if tired and not await couriers.tasks_of(session, courier_id=user_id):
                left = await couriers.set_shift(session, user_id=user_id, on=False, now=now)
                region_id = left.region_id
                await session.commit()
                await self.broker.publish(
                    *board.changed(region_id, what="shift", courier_id=user_id)
                )
                sim.on_since, sim.off_until = None, self.elapsed + sim.plan.rest_s
                return None
            return courier.speed_m_per_s

    async def _task(self, sim: SimRider, now: datetime) -> tuple[Delivery, Point] | None:
        """The rider's first open delivery and where it leads (accepting a new assignment)."""
        async with self.db.session() as session:
            found = await couriers.tasks_of(session, courier_id=sim.rider.user_id)
            if not found:
                return None
            delivery, order, store = found[0]
            if delivery.status == D.ASSIGNED and delivery.accepted_at is None:
                delivery = await tasks.accept(
                    session, delivery_id=delivery.id, courier_id=sim.rider.user_id, now=now
                )
                news = board.delivery_changed(delivery)
                await session.commit()
                await self.broker.publish(*news)
            return delivery, _where(delivery, order, store)

    async def _report(self, sim: SimRider, now: datetime) -> None:
        """Post the rider's position as the couriers' API does, and publish it to trackers."""
        sim.quiet = 0
        fix = positions.Fix(sim.here.lat, sim.here.lng, now)
        async with self.db.session() as session:
            done = await positions.record(
                session, courier_id=sim.rider.user_id, fixes=[fix], policy=self.policy, now=now
            )
            messages = await summary.position_news(session, done=done, now=now)
            await session.commit()
        for channel, message in messages:
            await self.broker.publish(channel, message)

    async def _act(self, sim: SimRider, delivery: Delivery, now: datetime) -> None:
        """At the store: pick up (or wait while it is not ready); at the door: hand over."""
        user_id = sim.rider.user_id
        async with self.db.session() as session:
            try:
                if delivery.status == D.ASSIGNED:
                    done = await tasks.pick_up(
                        session, delivery_id=delivery.id, courier_id=user_id, now=now
                    )
                elif delivery.status == D.PICKED_UP:
                    code = await _code(session, order_id=delivery.order_id)
                    if code is None:
                        return
                    done = await tasks.deliver(
                        session,
                        delivery_id=delivery.id,
                        courier_id=user_id,
                        code_text=code,
                        now=now,
                    )
                elif delivery.status == D.FAILED and self.providers is not None:
                    done = await tasks.give_back(
                        session,
                        delivery_id=delivery.id,
                        courier_id=user_id,
                        providers=self.providers,
                        now=now,
                    )
                else:
                    return
            except NotReadyForPickup:
                return  # wait at the store; try again next tick
            except DomainError as exc:
                log.info("rider %s: %s", sim.rider.email, exc)
                return
            news = board.delivery_changed(done)
            await session.commit()
        await self.broker.publish(*news)
        sim.goal, sim.route = None, []
        self.kick()


def _where(delivery: Delivery, order: Order, store: Store) -> Point:
    if delivery.status == D.PICKED_UP and order.address_lat is not None:
        return Point(order.address_lat, order.address_lng or store.lng)
    return Point(store.lat, store.lng)


async def _code(session: AsyncSession, *, order_id: int) -> str | None:
    """The delivery code the shopper tells the courier at the door (the simulator plays the
    shopper too)."""
    order = await session.get(Order, order_id)
    if order is None:
        return None
    row = await redemption_service.code_for(
        session, subject=order.reference, kind=CodeKind.DELIVERY
    )
    return row.code if row is not None and row.status == CodeStatus.ACTIVE else None
