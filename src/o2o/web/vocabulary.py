"""Data words the pages translate at run time (``gt(value)``): listed so extraction keeps them.

Attribute values of the demo catalog, staff roles and the demo login descriptions come from
the database or the seed, not from templates; naming them here puts them in the catalogs.
"""

from __future__ import annotations


def N_(message: str) -> str:  # noqa: N802 (gettext's "mark for translation" convention)
    return message


COLOURS = (
    N_("Beige"), N_("Black"), N_("Blue"), N_("Brown"), N_("Camel"), N_("Charcoal"),
    N_("Green"), N_("Grey"), N_("Navy"), N_("Olive"), N_("Pink"), N_("Red"), N_("White"),
    N_("Wine"), N_("Yellow"),
)  # fmt: skip
SIZES = (N_("Regular"), N_("Large"), N_("Bowl"))
ROLES = (N_("shopper"), N_("owner"), N_("manager"), N_("clerk"), N_("courier"))
DEMO_LOGINS = (
    N_("shopper"),
    N_("owner of Urban Threads"),
    N_("clerk at two Urban Threads stores in Shanghai"),
    N_("courier"),
    N_("platform admin"),
)

# Order statuses as the shopper reads them (the stored value is the key).
ORDER_STATUS = {
    "placed": N_("Placed"),
    "paid": N_("Paid"),
    "accepted": N_("Accepted by the store"),
    "preparing": N_("Being prepared"),
    "ready": N_("Ready"),
    "out_for_delivery": N_("Out for delivery"),
    "shipped": N_("Shipped"),
    "collected": N_("Collected"),
    "delivered": N_("Delivered"),
    "rejected": N_("Declined by the store"),
    "cancelled": N_("Cancelled"),
    "expired": N_("Expired"),
}
# Short forms for the status badges of the orders list.
ORDER_BADGE = {
    "placed": N_("Awaiting payment"),
    "paid": N_("Paid"),
    "accepted": N_("Accepted"),
    "preparing": N_("Preparing"),
    "ready": N_("Ready"),
    "out_for_delivery": N_("On the way"),
    "shipped": N_("Shipped"),
    "collected": N_("Collected"),
    "delivered": N_("Delivered"),
    "rejected": N_("Declined"),
    "cancelled": N_("Cancelled"),
    "expired": N_("Expired"),
}
FULFILMENT = {
    "pickup": N_("Pick up in store"),
    "reserve": N_("Reserve to try"),
    "delivery": N_("Delivery"),
    "shipping": N_("Shipping"),
}
FULFILMENT_HINT = {
    "pickup": N_("Pay now, collect at the counter with your code."),
    "reserve": N_("We hold it at the store for you to try; pay there if you keep it."),
    "delivery": N_("From the store to your door."),
    "shipping": N_("Sent by courier to your address."),
}

# Payment providers as the shopper reads them on the pay page.
PROVIDERS = {"demo": N_("Demo wallet"), "alipay": N_("Alipay"), "wechat": N_("WeChat Pay")}

# Orders in the console: statuses, fulfilment and the buttons that move an order on.
ORDER_STATUSES = {
    "placed": N_("Awaiting payment"),
    "paid": N_("Paid"),
    "accepted": N_("Accepted"),
    "preparing": N_("Preparing"),
    "ready": N_("Ready"),
    "out_for_delivery": N_("Out for delivery"),
    "shipped": N_("Shipped"),
    "collected": N_("Collected"),
    "delivered": N_("Delivered"),
    "rejected": N_("Rejected"),
    "cancelled": N_("Cancelled"),
    "expired": N_("Expired"),
}
FULFILMENTS = {
    "pickup": N_("Pickup"),
    "reserve": N_("Try in store"),
    "delivery": N_("Delivery"),
    "shipping": N_("Shipping"),
}
ORDER_ACTIONS = {
    "accepted": N_("Accept"),
    "rejected": N_("Reject"),
    "preparing": N_("Start preparing"),
    "ready": N_("Mark ready"),
    "out_for_delivery": N_("Hand over to courier"),
    "shipped": N_("Mark shipped"),
    "delivered": N_("Mark delivered"),
}
