"""Money in and out: payments through providers, notifications, refunds."""
