"""deliveries end when their order does

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-10 10:00:00

An order rejected or cancelled before a courier picked it up ends its delivery in the same
transaction: the delivery becomes ``cancelled`` (with ``cancelled_at``), with no courier, so
dispatch never offers it again. The CHECK that ties a courier to every status but
``requested`` and ``by_store`` now lets ``cancelled`` go without one too. Deliveries left
waiting by orders that ended before this revision are cancelled here.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from o2o.core.db import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECK = "ck_deliveries_courier_iff_assigned"
NOW = (
    "(status IN ('requested', 'by_store', 'cancelled') AND courier_id IS NULL)"
    " OR (status NOT IN ('requested', 'by_store', 'cancelled') AND courier_id IS NOT NULL)"
)
BEFORE = (
    "(status IN ('requested', 'by_store') AND courier_id IS NULL)"
    " OR (status NOT IN ('requested', 'by_store') AND courier_id IS NOT NULL)"
)


def _check(condition: str) -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_constraint(op.f(CHECK), type_="check")
        batch.create_check_constraint(op.f(CHECK), condition)


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("cancelled_at", UTCDateTime(timezone=True), nullable=True))
    _check(NOW)
    # Waiting requests of orders that ended before the hand-over: nobody will ever carry
    # them. (Held ones are cancelled by the next dispatch round, which frees their couriers.)
    op.execute(
        "UPDATE deliveries SET status = 'cancelled', cancelled_at = updated_at,"
        " reason = 'the order was closed'"
        " WHERE status = 'requested' AND order_id IN"
        " (SELECT id FROM orders WHERE status IN ('rejected', 'cancelled', 'expired'))"
    )


def downgrade() -> None:
    # as before this revision: an ended request nobody dispatches
    op.execute("UPDATE deliveries SET status = 'by_store' WHERE status = 'cancelled'")
    _check(BEFORE)
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("cancelled_at")
