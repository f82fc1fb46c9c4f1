"""refund states

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 15:00:00

A refund is decided in the use case's transaction (``pending``, with its request number) and
carried out at the provider afterwards by the worker (``succeeded`` or ``failed``). Refunds
made before this revision were made at the provider in the same transaction: they are
``succeeded``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from o2o.core.db import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "status",
                sa.Enum(
                    "pending",
                    "succeeded",
                    "failed",
                    name="refundstatus",
                    native_enum=False,
                    length=24,
                ),
                nullable=False,
                server_default="succeeded",
            )
        )
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("last_error", sa.String(length=300), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("completed_at", UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_refunds_status", ["status"], unique=False)
    op.execute("UPDATE refunds SET completed_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_index("ix_refunds_status")
        batch_op.drop_column("completed_at")
        batch_op.drop_column("last_error")
        batch_op.drop_column("attempts")
        batch_op.drop_column("status")
