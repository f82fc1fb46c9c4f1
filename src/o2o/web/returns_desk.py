"""The returns desk as the console shows it: an order found by number or pickup code, with
what is left to take back on each line, what each line may be exchanged for here, and the
earlier returns, in the store's local time.

The rules (what may come back, until when, for how much) are the returns service's; this
module only reads and arranges, and turns the desk form into the service's arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from o2o.catalog import service as catalog_service
from o2o.core.clock import utcnow
from o2o.inventory import queries as inventory_queries
from o2o.merchants import service as merchants_service
from o2o.merchants.models import Store
from o2o.orders import queries as orders_queries
from o2o.orders import returns, returns_queries
from o2o.orders import service as orders_service
from o2o.orders.exceptions import ExchangeTargetInvalid, OrderNotFound
from o2o.orders.policy import OrderPolicy
from o2o.orders.returns import ReturnDone
from o2o.orders.returns_models import OrderReturn, OrderReturnLine, ReturnKind
from o2o.orders.schemas import LineRead, OrderRead
from o2o.web.order_board import zone_of

STAMP = "%Y-%m-%d %H:%M"
REFUND = "return"
MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class SwapOption:
    """Another variant of the line's product at the price paid, with its stock here."""

    variant_id: int
    sku: str
    attributes: dict[str, str]
    available: int


@dataclass(frozen=True)
class DeskLine:
    line: LineRead
    left: int  # units still to take back
    options: list[SwapOption]


@dataclass(frozen=True)
class PastLine:
    title: str
    title_zh: str
    qty: int
    unit_price: int
    swapped_to: dict[str, str] | None  # the replacement's attributes, for an exchange


@dataclass(frozen=True)
class PastReturn:
    record: OrderReturn
    at: str  # store-local
    here: bool  # taken back at this store
    store_name: str
    store_name_zh: str
    lines: list[PastLine]


@dataclass(frozen=True)
class DeskOrder:
    order: OrderRead
    returnable: bool
    until: str | None  # end of the return window, store-local
    why_not: str | None  # "status", "window" or "till" when it cannot come back
    lines: list[DeskLine]
    past: list[PastReturn] = field(default_factory=list)

    @property
    def any_left(self) -> bool:
        return any(line.left > 0 for line in self.lines)


async def find(
    session: AsyncSession, *, store: Store, q: str, policy: OrderPolicy
) -> list[DeskOrder]:
    """The merchant's orders matching what was typed or scanned (an order number or a pickup
    code), ready for the desk."""
    found = await returns_queries.find_for_desk(session, merchant_id=store.merchant_id, q=q)
    return [await desk_order(session, store=store, order_id=o.id, policy=policy) for o in found]


async def desk_order(
    session: AsyncSession, *, store: Store, order_id: int, policy: OrderPolicy
) -> DeskOrder:
    order = await orders_service.get_order(session, order_id=order_id)
    if order.merchant_id != store.merchant_id:  # never show another merchant's order
        raise OrderNotFound(f"Order {order_id} not found.", field="order_id")
    view = await orders_queries.order_view(session, order, for_staff=True)
    zone = await zone_of(session, store)
    now = utcnow()
    until = returns.returnable_until(order, policy)
    returnable = await returns.is_returnable(session, order, policy=policy, now=now)
    why_not = None
    if not returnable:
        why_not = "status" if until is None else ("window" if until <= now else "till")
    lines = [
        DeskLine(line, line.qty - line.returned_qty, await _options(session, store, line))
        for line in view.lines
    ]
    past = await _past(session, store, view, zone)
    return DeskOrder(view, returnable, _stamp(until, zone), why_not, lines, past)


async def _options(session: AsyncSession, store: Store, line: LineRead) -> list[SwapOption]:
    if line.qty == line.returned_qty:
        return []
    others = [
        v
        for v in await catalog_service.variants_of(session, line.product_id)
        if v.id != line.variant_id and v.is_active and v.price == line.unit_price
    ]
    here = await inventory_queries.available_at(
        session, variant_ids=[v.id for v in others], store_ids=[store.id]
    )
    stock = here.get(store.id, {})
    return [SwapOption(v.id, v.sku, dict(v.attributes), stock.get(v.id, 0)) for v in others]


async def _past(
    session: AsyncSession, store: Store, view: OrderRead, zone: ZoneInfo
) -> list[PastReturn]:
    titles = {line.id: line for line in view.lines}
    out: list[PastReturn] = []
    names: dict[int, Store] = {store.id: store}
    for record, rows in await returns_queries.returns_of(session, order_id=view.id):
        if record.store_id not in names:
            names[record.store_id] = await merchants_service.get_store(
                session, store_id=record.store_id
            )
        at = names[record.store_id]
        out.append(
            PastReturn(
                record,
                _stamp(record.created_at, zone) or "",
                record.store_id == store.id,
                at.name,
                at.name_zh,
                [_past_line(row, titles) for row in rows],
            )
        )
    return out


def _past_line(row: OrderReturnLine, titles: dict[int, LineRead]) -> PastLine:
    line = titles.get(row.order_line_id)
    swapped = None
    if row.replacement_line_id is not None:
        replacement = titles.get(row.replacement_line_id)
        swapped = dict(replacement.attributes) if replacement else {}
    return PastLine(
        line.title if line else "",
        line.title_zh if line else "",
        row.qty,
        row.unit_price,
        swapped,
    )


def _stamp(at: datetime | None, zone: ZoneInfo) -> str | None:
    if at is None:
        return None
    return at.astimezone(zone).strftime(STAMP)


@dataclass(frozen=True)
class DeskRequest:
    """The desk form, as the services take it: lines to refund, lines to exchange (with the
    variant each becomes), and what was typed, to show again if it is refused."""

    refund: list[tuple[int, int]]
    exchange: list[tuple[int, int]]
    exchange_to: list[tuple[int, int]]
    sent: dict[int, tuple[int, str]]  # line -> (qty, "return" or a variant id)


def read_form(line_ids: list[int], qtys: list[int], choices: list[str]) -> DeskRequest:
    """Pair the repeated ``line``, ``qty`` and ``do`` fields; lines with no quantity are left
    out (the service says when nothing is left)."""
    refund: list[tuple[int, int]] = []
    exchange: list[tuple[int, int]] = []
    exchange_to: list[tuple[int, int]] = []
    sent: dict[int, tuple[int, str]] = {}
    for i, line_id in enumerate(line_ids):
        qty = qtys[i] if i < len(qtys) else 0
        choice = choices[i] if i < len(choices) else REFUND
        sent[line_id] = (qty, choice)
        if qty == 0:
            continue
        if choice == REFUND:
            refund.append((line_id, qty))
        elif choice.isdigit() and 0 < int(choice) <= MAX_ID:
            exchange.append((line_id, qty))
            exchange_to.append((line_id, int(choice)))
        else:
            raise ExchangeTargetInvalid("Choose refund or a variant to exchange for.", field="do")
    return DeskRequest(refund, exchange, exchange_to, sent)


async def outcome(session: AsyncSession, done: list[ReturnDone]) -> dict[str, Any]:
    """What the desk did, as plain data (a repeated form is answered with it again)."""
    lines = {
        line.id: line for line in await orders_service.lines_of(session, order_id=done[0].order.id)
    }
    refund_amount = 0
    refund_id: int | None = None
    items: list[dict[str, Any]] = []
    for step in done:
        refund_amount += step.record.refund_amount
        refund_id = step.record.refund_id or refund_id
        for row in step.lines:
            line = lines[row.order_line_id]
            swapped = lines.get(row.replacement_line_id or 0)
            items.append(
                {
                    "kind": step.record.kind.value,
                    "qty": row.qty,
                    "title": line.title,
                    "title_zh": line.title_zh,
                    "attributes": dict(line.attributes),
                    "to": dict(swapped.attributes) if swapped else None,
                    "to_sku": swapped.sku if swapped else None,
                }
            )
    order = done[-1].order
    return {
        "order_id": order.id,
        "currency": order.currency,
        "refund_amount": refund_amount,
        "refund_id": refund_id,
        "refunded_total": order.refunded,
        "restocked": done[0].record.restocked,
        "exchanged": any(step.record.kind == ReturnKind.EXCHANGE for step in done),
        "items": items,
    }
