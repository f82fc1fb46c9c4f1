"""What order events say (outbox payloads): the same facts for every topic."""

from __future__ import annotations

from o2o.orders.models import Order


def order_payload(order: Order) -> dict[str, object]:
    return {
        "order_id": order.id,
        "status": order.status.value,
        "fulfilment": order.fulfilment.value,
        "store_id": order.store_id,
        "merchant_id": order.merchant_id,
        "shopper_id": order.shopper_id,
        "total": order.total,
        "currency": order.currency,
    }
