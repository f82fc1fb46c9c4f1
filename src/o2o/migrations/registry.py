"""Imports every domain's tables so that ``Base.metadata`` is complete (for Alembic)."""

from __future__ import annotations

from o2o.core.db import Base


def load_all_models() -> type[Base]:
    # Imported here, not at module level: core must not depend on domains at import time.
    import o2o.accounts.models
    import o2o.catalog.models
    import o2o.core.idempotency_models
    import o2o.core.outbox_models
    import o2o.delivery.models
    import o2o.inventory.models
    import o2o.ledger.models
    import o2o.merchants.models
    import o2o.notifications.models
    import o2o.notifications.webhook_models
    import o2o.orders.models
    import o2o.orders.returns_models
    import o2o.payments.demo_wallet
    import o2o.payments.models
    import o2o.redemption.models
    import o2o.regions.models  # noqa: F401

    return Base
