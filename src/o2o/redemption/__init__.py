"""Codes redeemed once at a counter: pickup codes now; vouchers, coupons, exit passes next."""
