"""Redemption at the counter ("核销"): one entry for every kind of code.

The code is redeemed (at most once, only at its store) and what it stands for is handed over
in the same transaction: if the hand-over is refused, the code stays unused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core.clock import utcnow
from o2o.merchants.models import Store
from o2o.orders import service as orders_service
from o2o.orders.models import Order
from o2o.redemption import codes
from o2o.redemption import service as redemption_service
from o2o.redemption.models import CodeKind, RedemptionCode


@dataclass(frozen=True)
class Redeemed:
    code: RedemptionCode
    order: Order | None


async def redeem_at_counter(
    session: AsyncSession,
    *,
    store: Store,
    text: str,
    actor_user_id: int,
    now: datetime | None = None,
) -> Redeemed:
    """Redeem ``text`` (typed or scanned) at ``store`` and hand over what it stands for."""
    now = now or utcnow()
    code = await redemption_service.find_code(
        session, text=text, merchant_id=store.merchant_id, store_id=store.id
    )
    order: Order | None = None
    if code.kind == CodeKind.PICKUP:
        # The order first: the same lock order as every other change of an order.
        order = await orders_service.get_order(session, order_id=_order_id(code.subject))
        await orders_service.lock_order(session, order)
    await redemption_service.mark_redeemed(
        session, code=code, store_id=store.id, actor_user_id=actor_user_id, now=now
    )
    if order is not None:
        await orders_service.collect(session, order=order, actor_user_id=actor_user_id, now=now)
    return Redeemed(code, order)


def _order_id(subject: str) -> int:
    return int(subject.removeprefix("order:"))


def display(code: RedemptionCode) -> str:
    return codes.display(code.code)
