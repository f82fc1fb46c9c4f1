from __future__ import annotations

from o2o.core.errors import Conflict, Forbidden, InvalidInput, NotFound


class NotACourier(Forbidden):
    code = "not_a_courier"
    title = "Only couriers can do this"


class DeliveryNotFound(NotFound):
    code = "delivery_not_found"
    title = "No such delivery"


class NotADelivery(NotFound):
    code = "not_a_delivery"
    title = "This order is not delivered by a courier"


class DeliveryChanged(Conflict):
    """The delivery is not (or no longer) in the state the step needs."""

    code = "delivery_changed"
    title = "The delivery changed meanwhile"


class NotOnShift(Conflict):
    code = "courier_not_on_shift"
    title = "Go on shift first"


class DeliveriesInHand(Conflict):
    code = "deliveries_in_hand"
    title = "Hand over or return what you carry first"


class NotReadyForPickup(Conflict):
    code = "order_not_ready"
    title = "The store has not got the order ready yet"


class WrongDeliveryCode(InvalidInput):
    code = "wrong_delivery_code"
    title = "This is not the code of this delivery"


class PositionOutOfRange(InvalidInput):
    code = "position_out_of_range"
    title = "Latitude or longitude out of range"


class PositionInFuture(InvalidInput):
    code = "position_in_future"
    title = "A position is timed in the future"


class PositionTooOld(InvalidInput):
    code = "position_too_old"
    title = "A position is too old to use"


class NoRegion(Conflict):
    code = "no_region"
    title = "No region to work in"


class CourierNotFound(NotFound):
    code = "courier_not_found"
    title = "No such courier"


class AlreadyPickedUp(Conflict):
    """The goods are with a courier (or on their way back): only that courier can go on."""

    code = "delivery_already_picked_up"
    title = "The courier has the goods already"


class AlreadyDelivered(Conflict):
    code = "delivery_already_delivered"
    title = "The delivery is done"


class DeliveryCancelled(Conflict):
    code = "delivery_cancelled"
    title = "The order was cancelled"


class CarriedByStore(Conflict):
    code = "delivery_by_store"
    title = "The store's own staff carry this order"


class TargetOffShift(Conflict):
    code = "courier_off_shift"
    title = "That courier is not on shift"


class TargetInOtherRegion(Conflict):
    code = "courier_in_other_region"
    title = "That courier works in another region"


class TargetAtBundleLimit(Conflict):
    code = "courier_at_bundle_limit"
    title = "That courier carries as many orders as allowed"
