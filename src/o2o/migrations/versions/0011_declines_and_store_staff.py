"""couriers who declined a delivery; deliveries the store's own staff carry

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-09 10:00:00

One row per (delivery, courier) that declined it: the dispatch round never offers that
delivery to that courier again. A delivery may end ``by_store`` (the store's staff carry the
order), with no courier: the CHECK that ties a courier to every status but ``requested`` now
lets ``by_store`` go without one too.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from o2o.core.db import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


CHECK = "ck_deliveries_courier_iff_assigned"
NOW = (
    "(status IN ('requested', 'by_store') AND courier_id IS NULL)"
    " OR (status NOT IN ('requested', 'by_store') AND courier_id IS NOT NULL)"
)
BEFORE = (
    "(status = 'requested' AND courier_id IS NULL)"
    " OR (status <> 'requested' AND courier_id IS NOT NULL)"
)


def _check(condition: str) -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_constraint(op.f(CHECK), type_="check")
        batch.create_check_constraint(op.f(CHECK), condition)


def upgrade() -> None:
    _check(NOW)
    op.create_table(
        "delivery_declines",
        sa.Column("delivery_id", ID, nullable=False),
        sa.Column("courier_id", ID, nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_delivery_declines_delivery_id_deliveries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["courier_id"],
            ["couriers.user_id"],
            name=op.f("fk_delivery_declines_courier_id_couriers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("delivery_id", "courier_id", name=op.f("pk_delivery_declines")),
    )


def downgrade() -> None:
    op.drop_table("delivery_declines")
    # as before this revision: a request nobody dispatches (its order is out for delivery)
    op.execute("UPDATE deliveries SET status = 'requested' WHERE status = 'by_store'")
    _check(BEFORE)
