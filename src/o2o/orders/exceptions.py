from __future__ import annotations

from o2o.core.errors import Conflict, Forbidden, InvalidInput, NotFound


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


class DeliveryAreaReduced(Conflict):
    code = "delivery_area_reduced"
    title = "The store delivers only nearer addresses right now"


class StoreClosed(Conflict):
    code = "store_closed"
    title = "The store is closed now"


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


# -- returns and exchanges (o2o.orders.returns) ---------------------------------------------
class ReturnNotAllowed(Conflict):
    code = "return_not_allowed"
    title = "This order cannot be returned"


class ReturnWindowClosed(Conflict):
    code = "return_window_closed"
    title = "The time to return this order has passed"


class ReturnExceedsQuantity(Conflict):
    code = "return_exceeds_quantity"
    title = "More units than are left to return on this line"


class StoreOfAnotherMerchant(Forbidden):
    code = "store_of_another_merchant"
    title = "A store can only take back its own merchant's orders"


class InvalidReturnLines(InvalidInput):
    """No lines, a line twice, a line of another order, or a quantity below one."""

    code = "invalid_return_lines"
    title = "The lines to return are not valid"


class ReturnReasonRequired(InvalidInput):
    code = "return_reason_required"


class ExchangeTargetInvalid(InvalidInput):
    """An exchange must name, for each returned line, a variant of the same product."""

    code = "exchange_target_invalid"
    title = "Exchange each line for another variant of the same product"


class ExchangePriceDiffers(Conflict):
    code = "exchange_price_differs"
    title = "Only a variant of the same price can be exchanged"


class ProviderNotEnabled(InvalidInput):
    code = "provider_not_enabled"
    title = "The payment provider is not enabled on this platform"
