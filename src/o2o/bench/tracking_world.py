"""C1's database: couriers on shift, each carrying one delivery whose shopper watches it.

The few rows anyone reads one by one (region, merchant, store) go through the services; the
bulk (couriers with tokens and shifts, orders out for delivery, their deliveries) is
inserted set-wise, in the states the live system would have put them in, so that every
position batch runs the real checks, writes the real trail and publishes the real tracking
answer to the order's channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import insert, update

from o2o.accounts.models import User
from o2o.bench.orders_data import ALL_DAY, add_buyers
from o2o.core.clock import utcnow
from o2o.core.db import Database
from o2o.delivery.models import Courier, CourierShift, Delivery, DeliveryStatus
from o2o.merchants import service as merchants_service
from o2o.merchants.schemas import Fulfilment, StoreCreate
from o2o.orders.models import Fulfilment as OrderFulfilment
from o2o.orders.models import Order, OrderStatus
from o2o.regions import service as regions_service
from o2o.regions.schemas import Bounds, LatLng, RegionCreate

CENTRE = (31.23, 121.47)


@dataclass(frozen=True)
class World:
    courier_tokens: list[str]
    order_ids: list[int]  # order i is carried by courier i
    shopper_token: str


async def seed(db: Database, *, couriers: int) -> World:
    now = utcnow()
    lat, lng = CENTRE
    async with db.session() as session:
        region = await regions_service.create_region(
            session,
            data=RegionCreate(
                code="track", name="Tracking City", name_zh="追踪城", timezone="Asia/Shanghai",
                center=LatLng(lat=lat, lng=lng),
                bounds=Bounds(min_lat=30.0, min_lng=120.0, max_lat=32.5, max_lng=123.0),
            ),
        )  # fmt: skip
        merchant = await merchants_service.create_merchant(session, name="Bench", name_zh="测试")
        store = await merchants_service.create_store(
            session,
            merchant_id=merchant.id,
            data=StoreCreate(
                region=region.code, name="Bench kitchen", name_zh="测试厨房", lat=lat, lng=lng,
                opening_hours=ALL_DAY, fulfilment=Fulfilment(pickup=True, delivery=True),
            ),
        )  # fmt: skip
        courier_ids, courier_tokens = await add_buyers(session, couriers, tag="courier")
        await session.execute(update(User).where(User.id.in_(courier_ids)).values(is_courier=True))
        (shopper_id,), (shopper_token,) = await add_buyers(session, 1, tag="watcher")
        await session.execute(
            insert(Courier),
            [{"user_id": c, "region_id": region.id, "on_shift": True, "open_count": 1,
              "speed_m_per_s": 4.2, "last_lat": lat, "last_lng": lng, "last_seen_at": now,
              "created_at": now}
             for c in courier_ids],
        )  # fmt: skip
        await session.execute(
            insert(CourierShift), [{"courier_id": c, "started_at": now} for c in courier_ids]
        )
        door = {"text": "1 Bench Road", "lat": lat + 0.01, "lng": lng}
        order_ids = list(
            await session.scalars(
                insert(Order).returning(Order.id),
                [{"checkout_ref": f"track{i}", "region_id": region.id,
                  "merchant_id": merchant.id, "store_id": store.id, "shopper_id": shopper_id,
                  "fulfilment": OrderFulfilment.DELIVERY, "status": OrderStatus.OUT_FOR_DELIVERY,
                  "currency": "CNY", "subtotal": 1000, "discount": 0, "fee": 0, "total": 1000,
                  "refunded": 0, "address": door, "address_lat": door["lat"],
                  "address_lng": door["lng"], "distance_m": 1112, "reason": "",
                  "promised_at": now + timedelta(minutes=30), "paid_at": now,
                  "ready_at": now, "created_at": now, "updated_at": now}
                 for i in range(couriers)],
            )
        )  # fmt: skip
        order_ids.sort()
        await session.execute(
            insert(Delivery),
            [{"order_id": o, "store_id": store.id, "region_id": region.id,
              "status": DeliveryStatus.PICKED_UP, "courier_id": c, "declines": 0, "reason": "",
              "created_at": now, "updated_at": now, "assigned_at": now, "accepted_at": now,
              "picked_up_at": now}
             for o, c in zip(order_ids, courier_ids, strict=True)],
        )  # fmt: skip
        await session.commit()
    return World(courier_tokens, order_ids, shopper_token)
