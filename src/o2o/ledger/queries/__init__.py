"""Read models over the ledger (settlement statements, refunds)."""
