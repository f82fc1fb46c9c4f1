"""couriers, their shifts and trail, and deliveries

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 14:20:00

Couriers' profiles (vehicle, region, shift flag, last position and the count of deliveries
they hold, at most 3), shift records, the trail kept while a delivery is active, and one
delivery per delivery order (``o2o.delivery.models``). Delivery orders paid before this
revision keep the store's own hand-over; only new ones are dispatched to couriers.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from o2o.core.db import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _when() -> UTCDateTime:
    return UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "couriers",
        sa.Column("user_id", ID, nullable=False, autoincrement=False),
        sa.Column("region_id", ID, nullable=False),
        sa.Column("vehicle", sa.String(length=24), nullable=False),
        sa.Column("speed_m_per_s", sa.Float(), nullable=False),
        sa.Column("on_shift", sa.Boolean(), nullable=False),
        sa.Column("open_count", sa.Integer(), nullable=False),
        sa.Column("last_lat", sa.Float(), nullable=True),
        sa.Column("last_lng", sa.Float(), nullable=True),
        sa.Column("last_seen_at", _when(), nullable=True),
        sa.Column("created_at", _when(), nullable=False),
        sa.CheckConstraint(
            "open_count >= 0 AND open_count <= 3", name=op.f("ck_couriers_open_within_limit")
        ),
        sa.CheckConstraint("speed_m_per_s > 0", name=op.f("ck_couriers_speed_positive")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_couriers_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_couriers_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_couriers")),
    )
    op.create_index("ix_couriers_region_shift", "couriers", ["region_id", "on_shift"])

    op.create_table(
        "courier_shifts",
        sa.Column("id", ID, nullable=False),
        sa.Column("courier_id", ID, nullable=False),
        sa.Column("started_at", _when(), nullable=False),
        sa.Column("ended_at", _when(), nullable=True),
        sa.ForeignKeyConstraint(
            ["courier_id"],
            ["couriers.user_id"],
            name=op.f("fk_courier_shifts_courier_id_couriers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courier_shifts")),
    )
    op.create_index(
        "uq_courier_shifts_open",
        "courier_shifts",
        ["courier_id"],
        unique=True,
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.create_index(
        "ix_courier_shifts_courier_started", "courier_shifts", ["courier_id", "started_at"]
    )

    op.create_table(
        "deliveries",
        sa.Column("id", ID, nullable=False),
        sa.Column("order_id", ID, nullable=False),
        sa.Column("store_id", ID, nullable=False),
        sa.Column("region_id", ID, nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("courier_id", ID, nullable=True),
        sa.Column("declines", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("updated_at", _when(), nullable=False),
        sa.Column("assigned_at", _when(), nullable=True),
        sa.Column("accepted_at", _when(), nullable=True),
        sa.Column("picked_up_at", _when(), nullable=True),
        sa.Column("delivered_at", _when(), nullable=True),
        sa.Column("failed_at", _when(), nullable=True),
        sa.Column("returned_at", _when(), nullable=True),
        sa.CheckConstraint(
            "(status = 'requested' AND courier_id IS NULL)"
            " OR (status <> 'requested' AND courier_id IS NOT NULL)",
            name=op.f("ck_deliveries_courier_iff_assigned"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_deliveries_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_deliveries_store_id_stores")
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_deliveries_region_id_regions")
        ),
        sa.ForeignKeyConstraint(
            ["courier_id"],
            ["couriers.user_id"],
            name=op.f("fk_deliveries_courier_id_couriers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("order_id", name=op.f("uq_deliveries_order_id")),
    )
    op.create_index("ix_deliveries_status", "deliveries", ["status", "id"])
    op.create_index("ix_deliveries_courier_status", "deliveries", ["courier_id", "status"])

    op.create_table(
        "courier_positions",
        sa.Column("id", ID, nullable=False),
        sa.Column("courier_id", ID, nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lng", sa.Float(), nullable=False),
        sa.Column("at", _when(), nullable=False),
        sa.ForeignKeyConstraint(
            ["courier_id"],
            ["couriers.user_id"],
            name=op.f("fk_courier_positions_courier_id_couriers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courier_positions")),
    )
    op.create_index("ix_courier_positions_courier_at", "courier_positions", ["courier_id", "at"])


def downgrade() -> None:
    op.drop_table("courier_positions")
    op.drop_table("deliveries")
    op.drop_table("courier_shifts")
    op.drop_table("couriers")
