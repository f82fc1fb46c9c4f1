"""The demo's simulated couriers and store staff: who they are and where riders live.

Riders (``rider01@demo.o2o`` …) and the simulated staff of each merchant
(``staff.<merchant>@demo.o2o``) have no usable password: only the simulator acts for them.
A rider's home is derived from its login and its city's delivering stores, so the seed and
the simulator agree on it without storing it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.accounts.models import MemberRole, Membership, User
from o2o.delivery.models import VEHICLE_SPEED, Courier, Vehicle
from o2o.demo.motion import Point, home_near
from o2o.merchants.models import Store

RIDERS_PER_CITY = 20
RIDER_DOMAIN = "@demo.o2o"
UNUSABLE_PASSWORD = "!simulated"  # not a hash: no password ever matches it
# A mixed fleet, e-bikes first as on Chinese streets.
VEHICLES = (Vehicle.EBIKE,) * 5 + (Vehicle.SCOOTER,) * 3 + (Vehicle.BICYCLE,) * 2 + (Vehicle.CAR,)


def rider_email(n: int) -> str:
    return f"rider{n:02d}{RIDER_DOMAIN}"


def staff_email(merchant_key: str) -> str:
    return f"staff.{merchant_key}{RIDER_DOMAIN}"


async def delivery_spots(session: AsyncSession, *, region_id: int) -> list[Point]:
    """The region's stores that deliver, in id order."""
    rows = await session.execute(
        select(Store.lat, Store.lng)
        .where(Store.region_id == region_id, Store.offers_delivery.is_(True))
        .order_by(Store.id)
    )
    return [Point(lat, lng) for lat, lng in rows.all()]


async def seed_riders(
    session: AsyncSession, *, region_ids: list[int], seed: int, first: int = 1
) -> int:
    """``RIDERS_PER_CITY`` riders per region, off shift, waiting at home on mixed vehicles.
    How many were made."""
    rnd = random.Random(f"riders-{seed}")
    n = first
    for region_id in region_ids:
        spots = await delivery_spots(session, region_id=region_id)
        if not spots:
            continue
        for _ in range(RIDERS_PER_CITY):
            email = rider_email(n)
            user = User(
                email=email,
                display_name=f"Rider {n:02d}",
                password_hash=UNUSABLE_PASSWORD,
                is_courier=True,
            )
            session.add(user)
            await session.flush()
            vehicle = rnd.choice(VEHICLES)
            home = home_near(spots, email)
            session.add(
                Courier(
                    user_id=user.id,
                    region_id=region_id,
                    vehicle=vehicle,
                    speed_m_per_s=VEHICLE_SPEED[vehicle],
                    on_shift=False,
                    open_count=0,
                    last_lat=home.lat,
                    last_lng=home.lng,
                )
            )
            n += 1
    await session.flush()
    return n - first


async def seed_staff(
    session: AsyncSession, *, merchant_id: int, key: str, name: str, store_ids: list[int]
) -> User:
    """The merchant's simulated staff: a clerk at ``store_ids``."""
    user = User(
        email=staff_email(key), display_name=f"{name} staff", password_hash=UNUSABLE_PASSWORD
    )
    session.add(user)
    await session.flush()
    session.add(
        Membership(
            user_id=user.id,
            merchant_id=merchant_id,
            role=MemberRole.CLERK,
            store_ids=sorted(store_ids),
        )
    )
    await session.flush()
    return user


@dataclass(frozen=True)
class Rider:
    user_id: int
    email: str
    home: Point


async def riders(session: AsyncSession) -> list[Rider]:
    """The seeded riders with their homes."""
    rows = (
        await session.execute(
            select(User.id, User.email, Courier.region_id)
            .join(Courier, Courier.user_id == User.id)
            .where(User.email.like(f"rider%{RIDER_DOMAIN}"))
            .order_by(User.id)
        )
    ).all()
    spots: dict[int, list[Point]] = {}
    found = []
    for user_id, email, region_id in rows:
        if region_id not in spots:
            spots[region_id] = await delivery_spots(session, region_id=region_id)
        if spots[region_id]:
            found.append(Rider(user_id, email, home_near(spots[region_id], email)))
    return found


async def simulated_staff(session: AsyncSession) -> dict[int, int]:
    """merchant id -> the user id of its simulated staff."""
    rows = await session.execute(
        select(Membership.merchant_id, User.id)
        .join(User, User.id == Membership.user_id)
        .where(User.email.like(f"staff.%{RIDER_DOMAIN}"))
        .order_by(User.id)
    )
    return {int(m): int(u) for m, u in rows.all()}


async def hands_on_stores(session: AsyncSession, *, emails: tuple[str, ...]) -> set[int]:
    """Stores where a person plays the staff (the given logins' memberships)."""
    rows = await session.scalars(
        select(Membership.store_ids)
        .join(User, User.id == Membership.user_id)
        .where(User.email.in_(emails))
    )
    return {int(i) for ids in rows for i in (ids or [])}
