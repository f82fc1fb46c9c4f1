"""A courier's batch of positions in as few round trips as the rules allow.

Couriers post every few seconds, all day: this is the platform's hottest write. The rules are
those of ``positions.record`` and the tracking answer of ``tracking.tracking``; only the reads
are folded together. One locked read of the courier, one read of the deliveries it carries
with their orders and stores (and its name and phone), one insert of the trail, and the
tracking answers built from those rows, without reading each order again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.accounts.models import User
from o2o.delivery import board, couriers, positions, summary, tracking
from o2o.delivery.exceptions import NotOnShift
from o2o.delivery.models import ACTIVE, Courier, CourierPosition, Delivery
from o2o.delivery.policy import CourierPolicy
from o2o.merchants.models import Store
from o2o.orders.channels import order_channel
from o2o.orders.models import Order


@dataclass(frozen=True)
class Ingested:
    recorded: positions.Recorded
    news: list[tuple[str, dict[str, object]]]  # (channel, message), to publish after commit


async def ingest(
    session: AsyncSession,
    *,
    courier_id: int,
    fixes: list[positions.Fix],
    policy: CourierPolicy,
    now: datetime,
) -> Ingested:
    """Check and keep the batch (all of it or none), move the courier forward in time only,
    and say what each shopper following it should now see."""
    positions.check(fixes, now=now, policy=policy)
    courier = await couriers.profile(session, user_id=courier_id, lock=True)
    if not courier.on_shift:
        raise NotOnShift("Go on shift before sending positions.")
    newest = max(fixes, key=lambda f: f.at)
    moved = courier.last_seen_at is None or newest.at > courier.last_seen_at
    if moved:
        courier.last_lat, courier.last_lng, courier.last_seen_at = newest.lat, newest.lng, newest.at
    carried = (
        await session.execute(
            select(Delivery, Order, Store, User)
            .join(Order, Order.id == Delivery.order_id)
            .join(Store, Store.id == Delivery.store_id)
            .join(User, User.id == Delivery.courier_id)
            .where(Delivery.courier_id == courier_id, Delivery.status.in_(ACTIVE))
            .order_by(Delivery.id)
        )
    ).all()
    if carried:
        await session.execute(
            insert(CourierPosition),
            [{"courier_id": courier_id, "lat": f.lat, "lng": f.lng, "at": f.at} for f in fixes],
        )
    await session.flush()
    order_ids = [d.order_id for d, _o, _s, _u in carried]
    recorded = positions.Recorded(courier, len(fixes), moved, order_ids)
    news: list[tuple[str, dict[str, object]]] = []
    if moved:
        for delivery, order, store, user in carried:
            message = _answer(delivery, order, store, user, courier, now)
            news.append((order_channel(order.id), message))
        news.append(board.courier_moved(courier))  # one per batch, for the region's board
    return Ingested(recorded, news)


def _answer(
    delivery: Delivery, order: Order, store: Store, user: User, courier: Courier, now: datetime
) -> dict[str, object]:
    eta = tracking.eta_seconds(delivery, courier, store, order)
    view = tracking.Tracking(order, delivery, courier, user, eta, None)
    return {"type": "tracking", **summary.tracking_read(view, now).model_dump(mode="json")}
