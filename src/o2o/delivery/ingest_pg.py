"""A courier's batch of positions on PostgreSQL in one statement.

The same rules as ``ingest.ingest`` (and ``positions.record``): the batch is checked first
(in Python, all or nothing); the courier's row is locked and moved forward in time only; the
trail is written only while it carries a delivery; and each carried order's shopper gets the
tracking answer. Here the lock, the move, the read of what it carries and the trail are one
statement through asyncpg, with no ORM work per request. It decides only the common case: a
courier with a profile, on shift. Otherwise it changes nothing and returns None, and the
general path answers (making the profile, or refusing with the right problem).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from o2o.accounts.models import User
from o2o.core import rawpg
from o2o.delivery import board, ingest, positions, summary, tracking
from o2o.delivery.ingest import Ingested
from o2o.delivery.models import ACTIVE, Courier, Delivery, DeliveryStatus, Vehicle
from o2o.delivery.policy import CourierPolicy
from o2o.merchants.models import Store
from o2o.orders.channels import order_channel
from o2o.orders.models import Fulfilment, Order, OrderStatus

# $1 courier, $2–$4 the newest fix, $5–$7 the whole batch, $8 the carried statuses.
SQL = """
WITH old AS (
    SELECT user_id, last_seen_at AS seen FROM couriers WHERE user_id = $1 FOR UPDATE
), c AS (
    UPDATE couriers AS n SET
        last_lat = CASE WHEN old.seen IS NULL OR old.seen < $4 THEN $2 ELSE n.last_lat END,
        last_lng = CASE WHEN old.seen IS NULL OR old.seen < $4 THEN $3 ELSE n.last_lng END,
        last_seen_at = CASE WHEN old.seen IS NULL OR old.seen < $4 THEN $4 ELSE n.last_seen_at END
    FROM old
    WHERE n.user_id = old.user_id AND n.on_shift
    RETURNING n.user_id, n.region_id, n.vehicle, n.speed_m_per_s, n.on_shift, n.open_count,
              n.last_lat, n.last_lng, n.last_seen_at,
              (old.seen IS NULL OR old.seen < $4) AS moved
), d AS (
    SELECT d.id, d.order_id, d.status, o.status AS order_status, o.store_id,
           o.address_lat, o.address_lng, o.promised_at, s.lat AS store_lat, s.lng AS store_lng,
           u.display_name, u.phone
    FROM deliveries d
    JOIN orders o ON o.id = d.order_id
    JOIN stores s ON s.id = d.store_id
    JOIN users u ON u.id = d.courier_id
    WHERE d.courier_id = $1 AND d.status = ANY($8::varchar[]) AND EXISTS (SELECT 1 FROM c)
), t AS (
    INSERT INTO courier_positions (courier_id, lat, lng, at)
    SELECT $1, x.lat, x.lng, x.at
    FROM unnest($5::float8[], $6::float8[], $7::timestamptz[]) AS x(lat, lng, at)
    WHERE EXISTS (SELECT 1 FROM d)
    RETURNING 1
)
SELECT c.*, d.id AS delivery_id, d.order_id, d.status AS delivery_status, d.order_status,
       d.store_id, d.address_lat, d.address_lng, d.promised_at, d.store_lat, d.store_lng,
       d.display_name, d.phone, (SELECT count(*) FROM t) AS kept
FROM c LEFT JOIN d ON true
ORDER BY d.id
"""
CARRIED = [s.value for s in sorted(ACTIVE)]


def applies(session: AsyncSession) -> bool:
    bind = session.bind
    return bind is not None and bind.dialect.name == "postgresql"


async def ingest_once(
    session: AsyncSession,
    *,
    courier_id: int,
    fixes: list[positions.Fix],
    policy: CourierPolicy,
    now: datetime,
) -> Ingested | None:
    """The batch kept, or None when the general path must decide. Bad positions raise
    before anything is written. In the session's transaction if it has begun (the caller
    commits); else the statement is its own transaction, committed when it returns: one
    round trip, all of it or nothing, as the rules want. Either way the caller publishes
    the news only after ``commit()``."""
    positions.check(fixes, now=now, policy=policy)
    newest = max(fixes, key=lambda f: f.at)
    driver: Any = await rawpg.driver(session, begin=False)
    rows = await driver.fetch(
        SQL,
        courier_id,
        newest.lat,
        newest.lng,
        newest.at,
        [f.lat for f in fixes],
        [f.lng for f in fixes],
        [f.at for f in fixes],
        CARRIED,
    )
    if not rows:
        return None
    first = rows[0]
    courier = Courier(
        user_id=first["user_id"],
        region_id=first["region_id"],
        vehicle=Vehicle(first["vehicle"]),
        speed_m_per_s=first["speed_m_per_s"],
        on_shift=first["on_shift"],
        open_count=first["open_count"],
        last_lat=first["last_lat"],
        last_lng=first["last_lng"],
        last_seen_at=first["last_seen_at"],
    )
    carried = [r for r in rows if r["delivery_id"] is not None]
    moved = bool(first["moved"])
    recorded = positions.Recorded(courier, len(fixes), moved, [r["order_id"] for r in carried])
    news: list[tuple[str, dict[str, object]]] = []
    if moved:  # each follower's answer, and one message for the region's board
        news = [(order_channel(r["order_id"]), _answer(r, courier, now)) for r in carried]
        news.append(board.courier_moved(courier))
    return Ingested(recorded, news)


def _answer(row: Any, courier: Courier, now: datetime) -> dict[str, object]:
    delivery = Delivery(
        id=row["delivery_id"],
        order_id=row["order_id"],
        status=DeliveryStatus(row["delivery_status"]),
    )
    order = Order(
        id=row["order_id"],
        status=OrderStatus(row["order_status"]),
        fulfilment=Fulfilment.DELIVERY,
        store_id=row["store_id"],
        address_lat=row["address_lat"],
        address_lng=row["address_lng"],
        promised_at=row["promised_at"],
    )
    store = Store(id=row["store_id"], lat=row["store_lat"], lng=row["store_lng"])
    user = User(id=courier.user_id, display_name=row["display_name"], phone=row["phone"])
    eta = tracking.eta_seconds(delivery, courier, store, order)
    view = tracking.Tracking(order, delivery, courier, user, eta, None)
    return {"type": "tracking", **summary.tracking_read(view, now).model_dump(mode="json")}


async def keep(
    session: AsyncSession,
    *,
    courier_id: int,
    fixes: list[positions.Fix],
    policy: CourierPolicy,
    now: datetime,
) -> Ingested:
    """A batch of positions by the shortest path that applies: one statement on
    PostgreSQL for an on-shift courier, else the general path (which also refuses)."""
    if applies(session):
        done = await ingest_once(
            session, courier_id=courier_id, fixes=fixes, policy=policy, now=now
        )
        if done is not None:
            return done
    return await ingest.ingest(session, courier_id=courier_id, fixes=fixes, policy=policy, now=now)
