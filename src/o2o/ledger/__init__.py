"""The money ledger: double-entry journals of what was paid, refunded and owed."""
