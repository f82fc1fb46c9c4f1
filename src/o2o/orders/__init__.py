"""Orders: checkout, reservations, the order state machine, fulfilment."""
