"""order returns and exchanges

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 09:30:00

What came back over a store's returns desk (``o2o.orders.returns``): one ``order_returns``
row per return or exchange (receiving store, who, why, refund and its id) and one
``order_return_lines`` row per order line (units, price, and for an exchange the variant and
order line that replaced them). New tables only: nothing existing changes.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from o2o.core.db import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "order_returns",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "merchant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("store_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("return", "exchange", name="returnkind", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("restocked", sa.Boolean(), nullable=False),
        sa.Column("refund_amount", sa.Integer(), nullable=False),
        sa.Column("refund_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "actor_user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind = 'return' OR refund_amount = 0",
            name=op.f("ck_order_returns_exchange_moves_no_money"),
        ),
        sa.CheckConstraint("refund_amount >= 0", name=op.f("ck_order_returns_refund_non_negative")),
        sa.ForeignKeyConstraint(
            ["actor_user_id"],
            ["users.id"],
            name=op.f("fk_order_returns_actor_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_order_returns_merchant_id_merchants")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_returns_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["refund_id"],
            ["refunds.id"],
            name=op.f("fk_order_returns_refund_id_refunds"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_order_returns_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_returns")),
    )
    with op.batch_alter_table("order_returns", schema=None) as batch_op:
        batch_op.create_index("ix_order_returns_order", ["order_id", "id"], unique=False)
        batch_op.create_index("ix_order_returns_store", ["store_id", "id"], unique=False)

    op.create_table(
        "order_return_lines",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "return_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "order_line_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "variant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("unit_price", sa.Integer(), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column(
            "replacement_variant_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "replacement_line_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.CheckConstraint("qty > 0", name=op.f("ck_order_return_lines_qty_positive")),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["order_lines.id"],
            name=op.f("fk_order_return_lines_order_line_id_order_lines"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["replacement_line_id"],
            ["order_lines.id"],
            name=op.f("fk_order_return_lines_replacement_line_id_order_lines"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["replacement_variant_id"],
            ["variants.id"],
            name=op.f("fk_order_return_lines_replacement_variant_id_variants"),
        ),
        sa.ForeignKeyConstraint(
            ["return_id"],
            ["order_returns.id"],
            name=op.f("fk_order_return_lines_return_id_order_returns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"], ["variants.id"], name=op.f("fk_order_return_lines_variant_id_variants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_return_lines")),
    )
    with op.batch_alter_table("order_return_lines", schema=None) as batch_op:
        batch_op.create_index("ix_order_return_lines_line", ["order_line_id"], unique=False)
        batch_op.create_index("ix_order_return_lines_return", ["return_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("order_return_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_order_return_lines_return")
        batch_op.drop_index("ix_order_return_lines_line")

    op.drop_table("order_return_lines")
    with op.batch_alter_table("order_returns", schema=None) as batch_op:
        batch_op.drop_index("ix_order_returns_store")
        batch_op.drop_index("ix_order_returns_order")

    op.drop_table("order_returns")
