"""The ledger's errors."""

from __future__ import annotations

from o2o.core.errors import InvalidInput


class UnbalancedJournal(RuntimeError):
    """A posting whose entries do not add up to zero: a bug in the caller, never bad input.
    Raised before anything is written, so the use case's transaction rolls back whole."""


class InvalidPeriod(InvalidInput):
    code = "invalid_period"
    title = "Invalid period"
