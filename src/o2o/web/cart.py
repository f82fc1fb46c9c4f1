"""The shopper's cart: lines (store, variant, qty), kept in a signed cookie.

Why a signed cookie rather than a table keyed by the web session:
- a cart is a wish, not a commitment: nothing is reserved until checkout, so it needs no
  transaction, no migration and no clean-up job for abandoned carts;
- it works the same on every app process (no sticky sessions, nothing shared to lock);
- the signature (itsdangerous, under the secret key) means a tampered cookie is simply an
  empty cart, and the cookie only carries ids and quantities: prices, stock and whether the
  store still sells the item are read again on every page, and checked again by checkout.
The cost is a size cap (``MAX_LINES`` keeps the cookie far under 4 KB) and a cart that stays on
one device. The cookie names its owner, so another login on the same browser starts empty.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from itsdangerous import BadSignature, URLSafeSerializer

from o2o.inventory.schemas import MAX_QTY

COOKIE = "o2o_cart"
MAX_LINES = 30
MAX_AGE = 30 * 24 * 3600
_SALT = "o2o-cart"


@dataclass(frozen=True)
class CartLine:
    store_id: int
    variant_id: int
    qty: int


@dataclass
class Cart:
    """What the shopper means to buy, in the order they added it."""

    user_id: int
    lines: list[CartLine] = field(default_factory=list)

    def stores(self) -> list[int]:
        """Store ids in the order their first line was added."""
        return list(dict.fromkeys(line.store_id for line in self.lines))

    def at(self, store_id: int) -> list[CartLine]:
        return [line for line in self.lines if line.store_id == store_id]

    def count(self) -> int:
        return sum(line.qty for line in self.lines)

    def set(self, store_id: int, variant_id: int, qty: int) -> None:
        """Set a line's quantity (0 removes it); a new line goes last."""
        qty = max(0, min(qty, MAX_QTY))
        kept: list[CartLine] = []
        placed = False
        for line in self.lines:
            if (line.store_id, line.variant_id) == (store_id, variant_id):
                placed = True
                if qty:
                    kept.append(CartLine(store_id, variant_id, qty))
            else:
                kept.append(line)
        if not placed and qty:
            kept.append(CartLine(store_id, variant_id, qty))
        self.lines = kept[-MAX_LINES:]

    def add(self, store_id: int, variant_id: int, qty: int = 1) -> None:
        current = next(
            (
                line.qty
                for line in self.lines
                if (line.store_id, line.variant_id) == (store_id, variant_id)
            ),
            0,
        )
        self.set(store_id, variant_id, current + qty)

    def drop_store(self, store_id: int) -> None:
        self.lines = [line for line in self.lines if line.store_id != store_id]


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=_SALT)


def dump(cart: Cart, *, secret: str) -> str:
    payload = {"u": cart.user_id, "l": [[x.store_id, x.variant_id, x.qty] for x in cart.lines]}
    return str(_serializer(secret).dumps(payload))


def load(raw: str | None, *, secret: str, user_id: int) -> Cart:
    """The cart in the cookie, or an empty one if it is missing, forged, malformed or someone
    else's."""
    cart = Cart(user_id)
    if not raw:
        return cart
    try:
        data = _serializer(secret).loads(raw)
    except (BadSignature, json.JSONDecodeError):
        return cart
    if not isinstance(data, dict) or data.get("u") != user_id:
        return cart
    for item in data.get("l", [])[:MAX_LINES]:
        if (
            isinstance(item, list)
            and len(item) == 3
            and all(isinstance(n, int) and n > 0 for n in item)
        ):
            cart.set(item[0], item[1], item[2])
    return cart
