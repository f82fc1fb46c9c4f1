"""The order queue as the console shows it: three columns of cards in the store's local time.

Which buttons a card gets is the state machine's answer (``next_actions`` of the staff view);
this module only groups, orders and formats, so the pages never restate a domain rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from o2o.catalog import service as catalog_service
from o2o.core.clock import utcnow
from o2o.merchants.models import Store
from o2o.orders import queries as orders_queries
from o2o.orders import service as orders_service
from o2o.orders.models import OrderStatus
from o2o.orders.schemas import LineRead, OrderRead
from o2o.regions import service as regions_service

S = OrderStatus
# The live queue, left to right: what just came in, what is being worked on, what waits.
COLUMN_OF: dict[OrderStatus, str] = {
    S.PLACED: "new",
    S.PAID: "new",
    S.ACCEPTED: "preparing",
    S.PREPARING: "preparing",
    S.READY: "ready",
    S.OUT_FOR_DELIVERY: "ready",
}
COLUMNS = ("new", "preparing", "ready")
# Enough for a busy store's open orders; older ones are still reachable through the API.
QUEUE_LIMIT = 200


@dataclass(frozen=True)
class Card:
    order: OrderRead
    column: str
    age_minutes: int
    window: str | None  # pickup window, store-local ("14:00–14:30")
    promise: str | None  # delivery promise, store-local ("14:35")
    actions: list[str]

    @property
    def needs_action(self) -> bool:
        """A new order the store has not answered yet: it rings and counts in the title."""
        return self.column == "new" and bool(self.actions)


@dataclass
class Board:
    columns: dict[str, list[Card]] = field(default_factory=lambda: {c: [] for c in COLUMNS})

    @property
    def waiting(self) -> int:
        return sum(card.needs_action for card in self.columns["new"])


def clock(at: datetime | None, zone: ZoneInfo, now: datetime) -> str | None:
    """``14:30`` today, ``06-02 14:30`` on another day (store-local)."""
    if at is None:
        return None
    local = at.astimezone(zone)
    same_day = local.date() == now.astimezone(zone).date()
    return local.strftime("%H:%M" if same_day else "%m-%d %H:%M")


def local_stamp(iso: object, zone: ZoneInfo) -> str | None:
    """``2025-06-02 14:30`` store-local, for an ISO instant a domain error carried."""
    if not isinstance(iso, str) or not iso:
        return None
    try:
        return datetime.fromisoformat(iso).astimezone(zone).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return None


def card_of(view: OrderRead, zone: ZoneInfo, now: datetime) -> Card:
    window = None
    if view.pickup_window is not None:
        start = clock(view.pickup_window.start, zone, now)
        end = view.pickup_window.end.astimezone(zone).strftime("%H:%M")
        window = f"{start}–{end}"
    return Card(
        order=view,
        column=COLUMN_OF.get(view.status, "ready"),
        age_minutes=max(0, int((now - view.created_at).total_seconds() // 60)),
        window=window,
        promise=clock(view.promised_at, zone, now),
        actions=[s.value for s in view.next_actions],
    )


async def zone_of(session: AsyncSession, store: Store) -> ZoneInfo:
    region = await regions_service.get_region(session, region_id=store.region_id)
    return ZoneInfo(region.timezone)


async def board_of(session: AsyncSession, *, store: Store, now: datetime | None = None) -> Board:
    """The store's open orders as columns, oldest first in each (first come, first served)."""
    now = now or utcnow()
    zone = await zone_of(session, store)
    orders = await orders_queries.store_orders(
        session, store_id=store.id, statuses=None, before_id=None, limit=QUEUE_LIMIT
    )
    board = Board()
    for order in reversed(orders[:QUEUE_LIMIT]):
        view = await orders_queries.order_view(session, order, for_staff=True)
        card = card_of(view, zone, now)
        board.columns[card.column].append(card)
    return board


async def card_at(session: AsyncSession, *, store: Store, order_id: int) -> Card:
    """One order of the store as a card (404 for another store's order)."""
    order = await orders_service.order_at_store(session, order_id=order_id, store_id=store.id)
    view = await orders_queries.order_view(session, order, for_staff=True)
    now = utcnow()
    return card_of(view, await zone_of(session, store), now)


@dataclass(frozen=True)
class PickLine:
    line: LineRead
    barcode: str


async def pick_lines(session: AsyncSession, lines: list[LineRead]) -> list[PickLine]:
    """The lines with the barcode a picker scans on the shelf (the SKU if there is none)."""
    out: list[PickLine] = []
    for line in lines:
        variant = await catalog_service.get_variant(session, variant_id=line.variant_id)
        out.append(PickLine(line, variant.barcode or ""))
    return sorted(out, key=lambda p: (p.line.sku, p.line.id))
