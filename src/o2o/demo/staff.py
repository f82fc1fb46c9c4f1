"""The demo's simulated store staff: paid delivery orders are accepted, prepared and marked
ready after the store's preparation time (divided by the speed-up), through the same staff
transitions the store console uses. Stores a person plays (``hands_on``) are left alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from o2o.core.db import Database
from o2o.core.errors import DomainError
from o2o.merchants.models import Store
from o2o.orders import service as orders_service
from o2o.orders.models import Fulfilment, Order, OrderStatus
from o2o.payments.service import Providers

log = logging.getLogger("o2o.demo.staff")
S = OrderStatus
BATCH = 50


def next_step(order: Order, store: Store, *, now: datetime, speedup: float) -> OrderStatus | None:
    """What the simulated staff do next with a paid delivery order: accept it, start on it,
    and have it ready once the (sped-up) preparation time since payment has passed."""
    if order.status == S.PAID:
        return S.ACCEPTED
    if order.status == S.ACCEPTED:
        return S.PREPARING
    if order.status == S.PREPARING:
        since = order.paid_at or order.created_at
        if now >= since + timedelta(minutes=store.prep_minutes / max(speedup, 0.01)):
            return S.READY
    return None


@dataclass
class StoreStaff:
    db: Database
    providers: Providers
    actors: dict[int, int]  # merchant id -> the user id acting as its staff
    hands_on: set[int] = field(default_factory=set)
    speedup: float = 3.0
    kick: Callable[[], None] = lambda: None

    async def tick(self, now: datetime) -> int:
        """Move every order that is due one step; how many moved."""
        async with self.db.session() as session:
            rows = (
                await session.execute(
                    select(Order.id, Order.merchant_id)
                    .where(
                        Order.fulfilment == Fulfilment.DELIVERY,
                        Order.status.in_([S.PAID, S.ACCEPTED, S.PREPARING]),
                        Order.merchant_id.in_(list(self.actors)),
                        Order.store_id.not_in(list(self.hands_on) or [0]),
                    )
                    .order_by(Order.id)
                    .limit(BATCH)
                )
            ).all()
        moved = 0
        for order_id, merchant_id in rows:
            try:
                moved += await self._move(order_id, self.actors[merchant_id], now)
            except Exception:  # log and go on: the next tick tries again
                log.exception("order %s: staff step failed", order_id)
        if moved:
            self.kick()
        return moved

    async def _move(self, order_id: int, actor: int, now: datetime) -> int:
        async with self.db.session() as session:
            order = await orders_service.get_order(session, order_id=order_id)
            store = await session.get(Store, order.store_id)
            to = None if store is None else next_step(order, store, now=now, speedup=self.speedup)
            if to is None:
                return 0
            try:
                await orders_service.transition(
                    session,
                    order=order,
                    to=to,
                    actor_user_id=actor,
                    providers=self.providers,
                    now=now,
                )
            except DomainError as exc:  # someone else moved it meanwhile
                log.info("order %s: %s", order_id, exc)
                return 0
            await session.commit()
            return 1
