"""Background work: the outbox relay and the timers (expiry sweeps, reconciliation)."""
