"""stock rows carry their store's active flag

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 06:00:00

Nearby search over stock (``o2o.inventory.queries``) had to look up each candidate's store by
primary key to check it is active: a random heap page of the wide ``stores`` table per row,
which measured 25-90 µs per PostgreSQL search (G2 in docs/benchmarks.md). The flag is copied
beside the position the rows already copy, and is the last column of the covering geo index,
so the check is read from the index with the rest.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_GEO = ["variant_id", "cell", "lat", "lng", "store_id", "available"]


def upgrade() -> None:
    # Plain ALTERs, not batch mode: SQLite adds a column with a constant default in place,
    # and a batch table copy would fail on the generated column ``available``.
    op.add_column(
        "stock_levels",
        sa.Column("store_active", sa.Boolean(), nullable=False, server_default=sa.true()),
    )
    op.execute(
        "UPDATE stock_levels SET store_active = false "
        "WHERE store_id IN (SELECT id FROM stores WHERE NOT is_active)"
    )
    op.drop_index("ix_stock_levels_geo", table_name="stock_levels")
    op.create_index("ix_stock_levels_geo", "stock_levels", [*OLD_GEO, "store_active"])


def downgrade() -> None:
    op.drop_index("ix_stock_levels_geo", table_name="stock_levels")
    op.create_index("ix_stock_levels_geo", "stock_levels", OLD_GEO)
    op.drop_column("stock_levels", "store_active")
