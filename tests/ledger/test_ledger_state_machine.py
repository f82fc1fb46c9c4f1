"""The ledger holds whatever happens: a hypothesis state machine places checkouts (one or two
merchants, at different commission rates), pays them, pays them too late, cancels, rejects,
expires, collects and returns, through the service layer, in any order; after every step

- every journal balances and the whole ledger sums to zero;
- merchant payables + commission = captured − refunded (− money no order claims);
- the ledger reconciles with payments, refunds and orders (``o2o ledger check``);
- each merchant's settlement days add up to what its payable account says.

It runs on SQLite and on PostgreSQL; each example inside a savepoint rolled back afterwards.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any, ClassVar, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from o2o.core.clock import utcnow
from o2o.core.db import create_engine
from o2o.core.errors import DomainError
from o2o.merchants import service as merchants_service
from o2o.orders import expiry, paying, placement, returns
from o2o.orders import service as orders_service
from o2o.orders.models import Fulfilment, Order, OrderStatus
from o2o.orders.schemas import LineIn, OrderCreate
from o2o.payments import service as payments_service
from o2o.payments.demo_wallet import DemoWallet, DemoWalletTrade
from o2o.payments.models import NotificationOutcome, Payment
from o2o.payments.service import Providers
from tests.ledger.books import POLICY, build_world, check_books

T = TypeVar("T")
S = OrderStatus
LATER = timedelta(days=3)  # past any hold and any pickup window's grace


class LedgerMachine(RuleBasedStateMachine):
    """One shopper, two merchants (the platform's default rate, and 3.33%); odd prices so
    that commission rounds."""

    loop: ClassVar[asyncio.AbstractEventLoop]
    conn: ClassVar[AsyncConnection]
    # The world, built once for all examples (ids: a refused step's rollback expires rows)
    stores: ClassVar[list[int]]
    merchants: ClassVar[list[int]]
    variants: ClassVar[list[list[int]]]
    staff_id: ClassVar[int]
    shopper_id: ClassVar[int]
    seen: ClassVar[Counter[str]]  # what the examples did, over all of them

    def __init__(self) -> None:
        super().__init__()
        self.example = self.run(self.conn.begin_nested())
        self.session = AsyncSession(
            bind=self.conn, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        self.wallet = DemoWallet(secret="state-machine-secret-0123", base_url="http://test")
        self.providers = Providers(self.wallet)
        self.orders: list[int] = []
        self.stranded = 0  # paid for orders that had left the payment: refunded to the payer
        self.changed = False  # since the invariants were last checked

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.run(self.session.close())
        self.run(self.example.rollback())

    # -- helpers ----------------------------------------------------------------------------
    def act(self, label: str, coro: Coroutine[Any, Any, T]) -> T | None:
        """Do one use case in one transaction; a refusal changes nothing (None)."""
        try:
            done = self.run(coro)
            self.run(self.session.commit())
        except DomainError as exc:
            self.run(self.session.rollback())
            self.seen[f"{label} refused: {exc.code}"] += 1
            return None
        self.seen[label] += 1
        self.changed = True
        return done

    def order(self, pick: int, *statuses: OrderStatus) -> Order | None:
        """One of the orders placed so far that is in one of ``statuses`` (any, without)."""
        found = self.run(self._ids(statuses))
        if not found:
            return None
        return self.run(orders_service.get_order(self.session, order_id=found[pick % len(found)]))

    async def _ids(self, statuses: tuple[OrderStatus, ...]) -> list[int]:
        query = select(Order.id).where(Order.id.in_(self.orders)).order_by(Order.id)
        if statuses:
            query = query.where(Order.status.in_(statuses))
        return list(await self.session.scalars(query))

    # -- rules ------------------------------------------------------------------------------
    @precondition(lambda self: len(self.orders) < 6)  # a few orders, many things done to them
    @rule(
        parts=st.lists(
            st.tuples(st.integers(0, 1), st.integers(0, 1), st.integers(1, 3)),
            min_size=1,
            max_size=2,
            unique_by=lambda p: p[0],
        )
    )
    def place(self, parts: list[tuple[int, int, int]]) -> None:
        """A checkout of one or two orders (at each merchant's store), paid together."""
        requests = [
            OrderCreate(
                store_id=self.stores[m],
                fulfilment=Fulfilment.PICKUP,
                lines=[LineIn(variant_id=self.variants[m][v], qty=qty)],
            )
            for m, v, qty in parts
        ]
        placed = self.act(
            "place",
            placement.place_orders(
                self.session, shopper_id=self.shopper_id, requests=requests, policy=POLICY
            ),
        )
        self.orders += [o.id for o in placed or []]

    @precondition(lambda self: self.orders)
    @rule(pick=st.integers(0, 10**6))
    def start_payment(self, pick: int) -> None:
        order = self.order(pick, S.PLACED)
        if order is None:
            return
        self.act(
            "start payment",
            paying.start_payment(
                self.session,
                order_id=order.id,
                shopper_id=self.shopper_id,
                provider_name="demo",
                providers=self.providers,
            ),
        )

    async def _notify(self, payment: Payment) -> int:
        """The wallet's notification arrives and is applied: what no order claims of it."""
        payment_id, amount = payment.id, payment.amount
        sent = await self.wallet.notification_for(self.session, payment_id=payment_id)
        assert sent is not None
        body, headers = sent
        result = await payments_service.accept_notification(
            self.session,
            provider=self.wallet,
            headers={k.lower(): v for k, v in headers.items()},
            body=body,
        )
        if result.payment is None or result.outcome != NotificationOutcome.APPLIED:
            return 0
        claimed = await self.session.scalar(
            select(func.coalesce(func.sum(Order.total), 0)).where(Order.payment_id == payment_id)
        )
        await paying.apply_payment(
            self.session, payment=result.payment, providers=self.providers, policy=POLICY
        )
        return amount - int(claimed or 0)

    @precondition(lambda self: self.orders)
    @rule(pick=st.integers(0, 10**6))
    def pay(self, pick: int) -> None:
        """The shopper pays a placed order (with the rest of its checkout) in the wallet; the
        wallet's notification arrives."""
        order = self.order(pick, S.PLACED)
        if order is None:
            return
        order_id = order.id

        async def pay() -> int:
            payment = await paying.start_payment(
                self.session,
                order_id=order_id,
                shopper_id=self.shopper_id,
                provider_name="demo",
                providers=self.providers,
            )
            await self.wallet.confirm(
                self.session, payment_id=payment.id, token=self.wallet.token_for(payment.id)
            )
            return await self._notify(payment)

        # A pending payment still covers all its orders: nothing is left unclaimed
        assert self.act("pay", pay()) in (0, None)

    @precondition(lambda self: self.orders)
    @rule(pick=st.integers(0, 10**6), expires=st.booleans())
    def pay_too_late(self, pick: int, expires: bool) -> None:
        """The shopper opens the QR, then the order is cancelled (or its time to pay runs
        out) and the payment closed; yet the provider had taken the money just before: it
        arrives for an order that is gone (and, in a checkout of two, for one that left the
        payment when it was closed)."""
        order = self.order(pick, S.PLACED)
        if order is None:
            return
        order_id = order.id
        payment = self.act(
            "start payment",
            paying.start_payment(
                self.session,
                order_id=order_id,
                shopper_id=self.shopper_id,
                provider_name="demo",
                providers=self.providers,
            ),
        )
        if payment is None:
            return
        payment_id = payment.id
        if expires:
            self.act(
                "expire placed",
                expiry.expire(
                    self.session,
                    order_id=order_id,
                    policy=POLICY,
                    providers=self.providers,
                    now=utcnow() + LATER,
                ),
            )
        else:
            self.act(
                "cancel placed",
                orders_service.cancel(
                    self.session,
                    order=self.run(orders_service.get_order(self.session, order_id=order_id)),
                    actor_user_id=self.shopper_id,
                    reason="",
                    providers=self.providers,
                ),
            )

        async def pay() -> int:
            await self.session.execute(
                update(DemoWalletTrade)
                .where(DemoWalletTrade.payment_id == payment_id)
                .values(status="paid", paid_at=utcnow())
            )
            return await self._notify(
                await payments_service.get_payment(self.session, payment_id=payment_id)
            )

        stranded = self.act("pay too late", pay())
        if stranded:
            self.stranded += stranded
            self.seen["paid too late, for orders gone"] += 1

    @precondition(lambda self: self.orders)
    @rule(pick=st.integers(0, 10**6))
    def cancel(self, pick: int) -> None:
        order = self.order(pick, S.PLACED, S.PAID)
        if order is None:
            return
        self.act(
            f"cancel {order.status.value}",
            orders_service.cancel(
                self.session,
                order=order,
                actor_user_id=self.shopper_id,
                reason="",
                providers=self.providers,
            ),
        )

    @precondition(lambda self: self.orders)
    @rule(pick=st.integers(0, 10**6), to=st.sampled_from([S.ACCEPTED, S.READY, S.REJECTED]))
    def staff_moves(self, pick: int, to: OrderStatus) -> None:
        order = self.order(pick, S.PAID, S.ACCEPTED)
        if order is None:
            return
        self.act(
            f"staff: {to.value}",
            orders_service.transition(
                self.session,
                order=order,
                to=to,
                actor_user_id=self.staff_id,
                reason="out of stock",
                providers=self.providers,
            ),
        )

    @precondition(lambda self: self.orders)
    @rule(pick=st.integers(0, 10**6))
    def time_runs_out(self, pick: int) -> None:
        """Unpaid past the hold: expired; paid but never collected: cancelled and refunded."""
        order = self.order(pick, S.PLACED, S.PAID, S.ACCEPTED, S.READY)
        if order is None:
            return
        self.act(
            f"expire {order.status.value}",
            expiry.expire(
                self.session,
                order_id=order.id,
                policy=POLICY,
                providers=self.providers,
                now=utcnow() + LATER,
            ),
        )

    @precondition(lambda self: self.orders)
    @rule(pick=st.integers(0, 10**6))
    def collect(self, pick: int) -> None:
        order = self.order(pick, S.PAID, S.ACCEPTED, S.READY)
        if order is None:
            return
        self.act(
            "collect",
            orders_service.collect(self.session, order=order, actor_user_id=self.staff_id),
        )

    @precondition(lambda self: self.orders)
    @rule(pick=st.integers(0, 10**6), qty=st.integers(1, 3))
    def bring_back(self, pick: int, qty: int) -> None:
        """Units of a collected order come back for a refund (the last ones: the rest)."""
        order = self.order(pick, S.COLLECTED)
        if order is None:
            return
        line = self.run(orders_service.lines_of(self.session, order_id=order.id))[0]
        qty = min(qty, line.qty - line.returned_qty) or 1
        order_id, store_id, line_id = order.id, order.store_id, line.id

        async def bring_back() -> object:
            return await returns.return_items(
                self.session,
                receiving_store=await merchants_service.get_store(self.session, store_id=store_id),
                order_id=order_id,
                lines=[(line_id, qty)],
                reason="does not fit",
                actor_user_id=self.staff_id,
                providers=self.providers,
            )

        self.act("return", bring_back())

    # -- what must hold after every step ----------------------------------------------------
    @invariant()
    def ledger_holds(self) -> None:
        # A step that changed nothing (nothing to do, or refused and rolled back) leaves the
        # state the last check passed: checking it again would only cost time.
        if self.changed:
            self.run(self._check())
            self.changed = False

    async def _check(self) -> None:
        await check_books(self.session, merchants=self.merchants, stranded=self.stranded)


def test_the_ledger_balances_after_any_sequence(database_url: str) -> None:
    loop = asyncio.new_event_loop()
    engine = create_engine(database_url)

    async def open_() -> tuple[AsyncConnection, Any]:
        conn = await engine.connect()
        return conn, await conn.begin()

    conn, outer = loop.run_until_complete(open_())
    session = AsyncSession(bind=conn, join_transaction_mode="create_savepoint")
    world = loop.run_until_complete(build_world(session))
    loop.run_until_complete(session.close())
    seen: Counter[str] = Counter()
    machine = type("Machine", (LedgerMachine,), {"loop": loop, "conn": conn, "seen": seen, **world})
    try:
        run_state_machine_as_test(
            machine,
            settings=settings(
                max_examples=25,
                stateful_step_count=40,
                derandomize=True,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
        # The machine reaches the paths money takes (deterministic: derandomized)
        assert {
            "pay",
            "cancel paid",
            "expire paid",
            "return",
            "pay too late",
            "paid too late, for orders gone",
        } <= set(seen), seen
    finally:
        loop.run_until_complete(outer.rollback())
        loop.run_until_complete(conn.close())
        loop.run_until_complete(engine.dispose())
        loop.close()
