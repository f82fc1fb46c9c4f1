from __future__ import annotations

from o2o.core.errors import Conflict, InvalidInput, NotFound


class OrderNotFound(NotFound):
    code = "order_not_found"


class EmptyOrder(InvalidInput):
    code = "empty_order"


class VariantNotSoldHere(InvalidInput):
    code = "variant_not_sold_here"
    title = "This store does not sell that item"


class FulfilmentNotOffered(InvalidInput):
    code = "fulfilment_not_offered"
    title = "The store does not offer this fulfilment"


class PickupWindowInvalid(InvalidInput):
    code = "pickup_window_invalid"
    title = "The pickup window is not possible"


class AddressRequired(InvalidInput):
    code = "address_required"


class OutsideDeliveryRadius(InvalidInput):
    code = "outside_delivery_radius"
    title = "The address is outside the store's delivery area"


class InvalidTransition(Conflict):
    code = "invalid_transition"
    title = "The order cannot move to that status now"


class OrderChanged(Conflict):
    code = "order_changed"
    title = "The order changed meanwhile; reload it and try again"


class NotPayable(Conflict):
    code = "order_not_payable"
    title = "The order cannot be paid now"


class StoreUnavailable(Conflict):
    code = "store_unavailable"
    title = "The store is not taking orders"


class NoShippingSource(Conflict):
    code = "no_shipping_source"
    title = "No store or warehouse can ship these items"
