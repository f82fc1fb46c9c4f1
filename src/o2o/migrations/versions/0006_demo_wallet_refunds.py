"""demo wallet refunds

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 10:00:00

The demo wallet keeps one row per refund it made (``demo_wallet_refunds``), so that its daily
statement lists refunds one by one, as real providers' statements do. New table only.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from o2o.core.db import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "demo_wallet_refunds",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("trade_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("request_no", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("refunded_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["trade_id"],
            ["demo_wallet_trades.id"],
            name=op.f("fk_demo_wallet_refunds_trade_id_demo_wallet_trades"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_demo_wallet_refunds")),
        sa.UniqueConstraint("trade_id", "request_no", name=op.f("uq_demo_wallet_refunds_trade_id")),
    )


def downgrade() -> None:
    op.drop_table("demo_wallet_refunds")
