"""money ledger and merchant commission

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 09:00:00

A double-entry ledger of money (``ledger_journals``, ``ledger_entries``; see
``o2o.ledger.models``) and each merchant's commission rate (``merchants.commission_bps``, NULL:
the platform's default).

Payments and refunds made before this revision are written into the ledger here, so that the
ledger is complete and ``o2o ledger check`` passes on an existing database. No commission was
agreed for those sales: they are posted at 0%.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

from o2o.core.db import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
COMMISSION_CHECK = "commission_bps IS NULL OR commission_bps BETWEEN 0 AND 10000"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with its CHECK in place; a batch copy of ``merchants`` would
        # drop and recreate a table that stores, products and orders point at.
        op.execute(
            "ALTER TABLE merchants ADD COLUMN commission_bps INTEGER "
            f"CONSTRAINT ck_merchants_commission_bps_range CHECK ({COMMISSION_CHECK})"
        )
    else:
        op.add_column("merchants", sa.Column("commission_bps", sa.Integer(), nullable=True))
        op.create_check_constraint("commission_bps_range", "merchants", COMMISSION_CHECK)
    op.create_table(
        "ledger_journals",
        sa.Column("id", ID, nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("reference", sa.String(length=120), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("occurred_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("region_id", ID, nullable=True),
        sa.Column("payment_id", ID, nullable=True),
        sa.Column("refund_id", ID, nullable=True),
        sa.Column("memo", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_ledger_journals_region_id_regions")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_ledger_journals_payment_id_payments")
        ),
        sa.ForeignKeyConstraint(
            ["refund_id"], ["refunds.id"], name=op.f("fk_ledger_journals_refund_id_refunds")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_journals")),
        sa.UniqueConstraint("reference", name=op.f("uq_ledger_journals_reference")),
    )
    op.create_index("ix_ledger_journals_business_date", "ledger_journals", ["business_date", "id"])
    op.create_index("ix_ledger_journals_payment_id", "ledger_journals", ["payment_id"])
    op.create_index("ix_ledger_journals_refund_id", "ledger_journals", ["refund_id"])
    op.create_table(
        "ledger_entries",
        sa.Column("id", ID, nullable=False),
        sa.Column("journal_id", ID, nullable=False),
        sa.Column("account", sa.String(length=80), nullable=False),
        sa.Column("merchant_id", ID, nullable=True),
        sa.Column("order_id", ID, nullable=True),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_ledger_entries_amount_nonzero")),
        sa.ForeignKeyConstraint(
            ["journal_id"],
            ["ledger_journals.id"],
            name=op.f("fk_ledger_entries_journal_id_ledger_journals"),
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_ledger_entries_merchant_id_merchants")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_ledger_entries_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
    )
    op.create_index("ix_ledger_entries_journal_id", "ledger_entries", ["journal_id"])
    op.create_index(
        "ix_ledger_entries_merchant_id", "ledger_entries", ["merchant_id", "journal_id"]
    )
    op.create_index("ix_ledger_entries_order_id", "ledger_entries", ["order_id"])
    backfill(op.get_bind())


def downgrade() -> None:
    op.drop_table("ledger_entries")
    op.drop_table("ledger_journals")
    op.drop_column("merchants", "commission_bps")  # and its CHECK with it


# -- what was paid and refunded before the ledger existed ----------------------------------
JOURNALS = sa.table(
    "ledger_journals",
    sa.column("id", ID),
    sa.column("kind", sa.String()),
    sa.column("reference", sa.String()),
    sa.column("currency", sa.String()),
    sa.column("occurred_at", UTCDateTime()),
    sa.column("business_date", sa.Date()),
    sa.column("region_id", ID),
    sa.column("payment_id", ID),
    sa.column("refund_id", ID),
    sa.column("memo", sa.String()),
    sa.column("created_at", UTCDateTime()),
)
ENTRIES = sa.table(
    "ledger_entries",
    sa.column("journal_id", ID),
    sa.column("account", sa.String()),
    sa.column("merchant_id", ID),
    sa.column("order_id", ID),
    sa.column("amount", sa.Integer()),
    sa.column("currency", sa.String()),
)
# (account, amount, merchant id, order id)
Entry = tuple[str, int, int | None, int | None]


def _rows(conn: sa.Connection, sql: str, **types: Any) -> list[Any]:
    return list(conn.execute(sa.text(sql).columns(**types)).all())


def backfill(conn: sa.Connection) -> None:
    """Post every succeeded payment and every refund already in the database, as the ledger
    service would have (at 0% commission). Safe to run again: references are unique."""
    zones = {r.id: ZoneInfo(r.timezone) for r in _rows(conn, "SELECT id, timezone FROM regions")}
    orders = _rows(
        conn,
        "SELECT id, merchant_id, region_id, total, paid_at, payment_id FROM orders "
        "WHERE payment_id IS NOT NULL ORDER BY id",
        paid_at=UTCDateTime(),
    )
    by_id = {o.id: o for o in orders}
    done = {r[0] for r in conn.execute(sa.text("SELECT reference FROM ledger_journals"))}
    for p in _rows(
        conn,
        "SELECT id, provider, amount, currency, paid_at, created_at FROM payments "
        "WHERE status = 'succeeded' ORDER BY id",
        paid_at=UTCDateTime(),
        created_at=UTCDateTime(),
    ):
        clearing = f"provider_clearing:{p.provider}"
        mine = [o for o in orders if o.payment_id == p.id]
        lines: list[Entry] = []
        for o in mine:
            to = f"merchant_payable:{o.merchant_id}" if o.paid_at else "refunds_due"
            lines += [(clearing, o.total, o.merchant_id, o.id), (to, -o.total, o.merchant_id, o.id)]
        rest = p.amount - sum(o.total for o in mine)
        if rest:
            lines += [(clearing, rest, None, None), ("unallocated_receipts", -rest, None, None)]
        region = mine[0].region_id if mine else None
        at = p.paid_at or p.created_at
        ref = f"capture:payment:{p.id}"
        if ref not in done:
            _post(conn, "capture", ref, p.currency, at, zones, region, lines, payment_id=p.id)
    for r in _rows(
        conn,
        "SELECT r.id, r.amount, r.reason, r.reference, r.created_at, p.provider, p.currency "
        "FROM refunds r JOIN payments p ON p.id = r.payment_id ORDER BY r.id",
        created_at=UTCDateTime(),
    ):
        ref = f"refund:{r.id}"
        o = by_id.get(int(r.reference.split(":")[1])) if r.reference.startswith("order:") else None
        if ref in done or o is None:
            continue
        to = f"merchant_payable:{o.merchant_id}" if o.paid_at else "refunds_due"
        lines = [
            (to, r.amount, o.merchant_id, o.id),
            (f"provider_clearing:{r.provider}", -r.amount, o.merchant_id, o.id),
        ]
        _post(
            conn,
            "refund",
            ref,
            r.currency,
            r.created_at,
            zones,
            o.region_id,
            lines,
            refund_id=r.id,
            memo=r.reason,
        )


def _post(
    conn: sa.Connection,
    kind: str,
    reference: str,
    currency: str,
    at: datetime,
    zones: dict[int, ZoneInfo],
    region_id: int | None,
    lines: list[Entry],
    **extra: Any,
) -> None:
    assert sum(amount for _, amount, _, _ in lines) == 0, reference  # noqa: S101 (a bug)
    zone = zones.get(region_id) if region_id is not None else None
    day: date = at.astimezone(zone or UTC).date()
    journal_id = conn.execute(
        sa.insert(JOURNALS)
        .values(
            kind=kind,
            reference=reference,
            currency=currency,
            occurred_at=at,
            business_date=day,
            region_id=region_id,
            created_at=datetime.now(UTC),
            memo=str(extra.pop("memo", ""))[:200],
            **extra,
        )
        .returning(JOURNALS.c.id)
    ).scalar_one()
    conn.execute(
        sa.insert(ENTRIES),
        [
            {
                "journal_id": journal_id,
                "account": a,
                "merchant_id": m,
                "order_id": o,
                "amount": amount,
                "currency": currency,
            }
            for a, amount, m, o in lines
            if amount
        ],
    )
