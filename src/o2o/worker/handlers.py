"""What the relay does with each outbox topic, and the timers' jobs.

Handlers are idempotent (a message may be handled twice after a crash): notifications are
keyed by the event, live messages are harmless to repeat, and the demo wallet's notification
is itself idempotent at the platform.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.core import idempotency, outbox
from o2o.core.broker import Broker
from o2o.core.clock import utcnow
from o2o.core.db import Database
from o2o.core.errors import DomainError
from o2o.delivery import assign as delivery_assign
from o2o.delivery import board as delivery_board
from o2o.delivery import ending as delivery_ending
from o2o.delivery import rounds as delivery_rounds
from o2o.delivery.policy import CourierPolicy
from o2o.inventory import reservations
from o2o.notifications import service as notifications_service
from o2o.notifications import webhooks
from o2o.orders import expiry as orders_expiry
from o2o.orders import paying as orders_paying
from o2o.orders import placement
from o2o.orders import service as orders_service
from o2o.orders.channels import order_channel, store_channel
from o2o.orders.models import Fulfilment
from o2o.orders.policy import OrderPolicy
from o2o.payments import demo_wallet, refunds
from o2o.payments import service as payments_service
from o2o.payments.models import NotificationOutcome, PaymentStatus, RefundStatus
from o2o.payments.service import Providers
from o2o.worker.relay import Handler, Timer

log = logging.getLogger("o2o.worker")

# Sends a provider's notification to the platform: (path, body, headers) -> (status, text).
Deliver = Callable[[str, bytes, dict[str, str]], Awaitable[tuple[int, str]]]

# Statuses a shopper hears about.
SHOPPER_HEARS = {
    "paid",
    "accepted",
    "ready",
    "out_for_delivery",
    "shipped",
    "delivered",
    "collected",
    "rejected",
    "cancelled",
    "expired",
}


@dataclass
class Wiring:
    db: Database
    broker: Broker
    providers: Providers
    policy: OrderPolicy
    deliver: Deliver
    # How merchants' webhooks reach the network: None is the real one; tests pass a fake.
    webhook_transport: httpx.AsyncBaseTransport | None = None
    webhooks_allow_private: bool = False
    webhook_max_attempts: int = outbox.MAX_ATTEMPTS
    courier_policy: CourierPolicy = field(default_factory=CourierPolicy)


def handlers(w: Wiring) -> dict[str, Handler]:
    async def order_news(session: AsyncSession, payload: dict[str, Any], event_type: str) -> None:
        status = str(payload["status"])
        if status in SHOPPER_HEARS:
            await notifications_service.notify(
                session,
                user_id=int(payload["shopper_id"]),
                kind=f"order.{status}",
                data={"order_id": payload["order_id"], "store_id": payload["store_id"]},
                source=f"order:{payload['order_id']}:{status}",
            )
        message = {"type": "order", **payload}
        await w.broker.publish(order_channel(int(payload["order_id"])), message)
        await w.broker.publish(store_channel(int(payload["store_id"])), message)
        if payload.get("fulfilment") == Fulfilment.DELIVERY.value:  # the region's board too
            found = await delivery_assign.delivery_of_order(
                session, order_id=int(payload["order_id"])
            )
            if found is not None:
                await w.broker.publish(*delivery_board.delivery_changed(found))
        if status in SHOPPER_HEARS:
            await w.broker.publish(
                notifications_service.channel(int(payload["shopper_id"])), message
            )
        # The event is named by order and status (an order never re-enters a status), so a
        # retried fan-out repeats the same event id and receivers can drop the duplicate.
        await webhooks.fan_out(
            session,
            merchant_id=int(payload["merchant_id"]),
            event_type=event_type,
            event_id=f"evt_order_{payload['order_id']}_{status}",
            data=dict(payload),
        )

    async def order_placed(session: AsyncSession, payload: dict[str, Any]) -> None:
        await order_news(session, payload, webhooks.ORDER_PLACED)

    async def status_changed(session: AsyncSession, payload: dict[str, Any]) -> None:
        await order_news(session, payload, webhooks.ORDER_STATUS_CHANGED)

    async def webhook_deliver(session: AsyncSession, payload: dict[str, Any]) -> None:
        await webhooks.deliver(
            session,
            payload,
            transport=w.webhook_transport,
            allow_private=w.webhooks_allow_private,
            max_attempts=w.webhook_max_attempts,
        )

    async def demo_notify(session: AsyncSession, payload: dict[str, Any]) -> None:
        wallet = demo_wallet.wallet_in(w.providers)
        signed = await wallet.notification_for(session, payment_id=int(payload["payment_id"]))
        if signed is None:
            return
        # End this transaction before the platform handles the notification: on SQLite every
        # transaction holds the one write lock, and in-process (the demo) the platform's own
        # session would wait for it until "database is locked".
        await session.commit()
        body, headers = signed
        # End this transaction before calling out: the platform's handler of the notification
        # needs to write, and on SQLite our open transaction would hold the only write lock.
        await session.commit()
        status, text = await w.deliver("/api/v1/payments/demo/notify", body, headers)
        if status != 200 or text.strip() != "success":
            raise RuntimeError(f"the platform answered {status} {text[:80]!r}; will retry")

    async def refund_requested(session: AsyncSession, payload: dict[str, Any]) -> None:
        # The provider is asked with the refund's own request number: a message handled twice
        # (a crash after the provider answered) asks again and gets the same refund back.
        refund_id = int(payload["refund_id"])
        done = await payments_service.carry_out_refund(
            session, providers=w.providers, refund_id=refund_id
        )
        if done.status == RefundStatus.PENDING:
            await session.commit()  # keep the attempt counted; the relay retries with back-off
            raise RuntimeError(f"refund {refund_id} not confirmed ({done.error}); will retry")

    async def payment_close(session: AsyncSession, payload: dict[str, Any]) -> None:
        # After the cancel (or the failed start) committed: a provider that cannot be reached
        # raises, and the relay tries again with back-off.
        await payments_service.close_at_provider(
            session, providers=w.providers, payment_id=int(payload["payment_id"])
        )

    async def delivery_requested(session: AsyncSession, payload: dict[str, Any]) -> None:
        # The delivery waits for the next dispatch round; made once however often we are told.
        made = await delivery_assign.request_delivery(
            session, order_id=int(payload["order_id"]), now=utcnow()
        )
        if made is not None:  # committed first, so that the board reading itself sees it
            await session.commit()
            await w.broker.publish(*delivery_board.delivery_changed(made))

    async def delivery_cancelled(session: AsyncSession, payload: dict[str, Any]) -> None:
        # The courier who held it hears at once (its bell); the region's board reads itself.
        courier_id = int(payload["courier_id"])
        message = {"type": "order", "status": "delivery_cancelled", **payload}
        await w.broker.publish(notifications_service.channel(courier_id), message)
        await w.broker.publish(
            *delivery_board.changed(
                int(payload["region_id"]),
                what="delivery",
                delivery_id=int(payload["delivery_id"]),
                order_id=int(payload["order_id"]),
                status="cancelled",
                courier_id=None,
            )
        )

    return {
        placement.ORDER_PLACED: order_placed,
        orders_service.STATUS_CHANGED: status_changed,
        demo_wallet.NOTIFY_TOPIC: demo_notify,
        orders_service.DELIVERY_REQUESTED: delivery_requested,
        delivery_ending.DELIVERY_CANCELLED: delivery_cancelled,
        refunds.REFUND_TOPIC: refund_requested,
        payments_service.CLOSE_TOPIC: payment_close,
        webhooks.DELIVER_TOPIC: webhook_deliver,
    }


def timers(w: Wiring) -> list[Timer]:
    async def expire_orders() -> int:
        async with w.db.session() as session:
            due = await orders_expiry.due_orders(session, policy=w.policy)
        ended = 0
        for order_id in due:
            try:
                async with w.db.session() as session:
                    ended += await delivery_ending.expire(
                        session, order_id=order_id, policy=w.policy, providers=w.providers
                    )
                    await session.commit()
            except Exception:
                log.exception("could not expire order %s", order_id)
        return ended

    async def release_holds() -> int:
        async with w.db.session() as session:
            levels = await reservations.expired_levels(session)
        freed = 0
        for store_id, variant_id in levels:
            async with w.db.session() as session:
                freed += await reservations.release_expired_at(
                    session, store_id=store_id, variant_id=variant_id
                )
                await session.commit()
        return freed

    async def reconcile_payments() -> int:
        """Ask the provider about payments pending for a while: a lost notification must
        not leave a paid order unpaid."""
        async with w.db.session() as session:
            pending = await payments_service.pending_older_than(
                session, before=utcnow() - timedelta(minutes=2)
            )
            ids = [(p.id, p.provider) for p in pending]
        settled = 0
        for payment_id, provider_name in ids:
            async with w.db.session() as session:
                provider = w.providers.get(provider_name)
                payment = await payments_service.get_payment(session, payment_id=payment_id)
                try:
                    notice = await provider.query(session, payment)
                except DomainError as exc:  # one provider down must not stall the others
                    log.warning("could not query payment %s: %s", payment_id, exc.detail)
                    continue
                if notice is None or not notice.paid or payment.status != PaymentStatus.PENDING:
                    continue
                result = await payments_service.settle(session, provider=provider, notice=notice)
                if result.outcome == NotificationOutcome.APPLIED and result.payment:
                    await orders_paying.apply_payment(
                        session, payment=result.payment, providers=w.providers, policy=w.policy
                    )
                    settled += 1
                await session.commit()
        return settled

    async def purge_keys() -> int:
        async with w.db.session() as session:
            purged = await idempotency.purge_expired(session)
            await session.commit()
        return purged

    async def tell_board(channel: str, message: dict[str, Any]) -> None:
        """Live news of a committed assignment: lost if the broker fails, never the round."""
        try:
            await w.broker.publish(channel, message)
        except Exception:
            log.exception("could not publish to %s", channel)

    async def dispatch_round() -> int:
        done = await delivery_rounds.run_round(
            w.db, policy=w.courier_policy, now=utcnow(), publish=tell_board
        )
        return done.assigned

    return [
        Timer("dispatch_couriers", w.courier_policy.round_seconds, dispatch_round),
        Timer("expire_orders", 15, expire_orders),
        Timer("release_holds", 30, release_holds),
        Timer("reconcile_payments", 60, reconcile_payments),
        Timer("purge_idempotency_keys", 3600, purge_keys),
    ]
