"""orders, stock reservations, payments, redemption codes, notifications, the outbox

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 06:22:35

Also each store's order settings (preparation time, reserve-to-try hold, delivery fee and
promise, shipping fee), added with plain ALTERs and constant defaults.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from o2o.core.db import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("topic", sa.String(length=80), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("available_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("processed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("failed_at", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_due", ["processed_at", "available_at", "id"], unique=False)

    op.create_table(
        "notifications",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notifications_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("source", name=op.f("uq_notifications_source")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_user", ["user_id", "id"], unique=False)

    op.create_table(
        "payments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=120), nullable=False),
        sa.Column(
            "payer_user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending", "succeeded", "closed", name="paymentstatus", native_enum=False, length=24
            ),
            nullable=False,
        ),
        sa.Column("refunded", sa.Integer(), nullable=False),
        sa.Column("qr_payload", sa.String(length=500), nullable=False),
        sa.Column("provider_trade_no", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("paid_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payments_amount_positive")),
        sa.CheckConstraint(
            "refunded >= 0 AND refunded <= amount", name=op.f("ck_payments_refunded_within_amount")
        ),
        sa.ForeignKeyConstraint(
            ["payer_user_id"],
            ["users.id"],
            name=op.f("fk_payments_payer_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index("ix_payments_reference", ["reference"], unique=False)
        batch_op.create_index("ix_payments_status_created", ["status", "created_at"], unique=False)

    op.create_table(
        "demo_wallet_trades",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "payment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("trade_no", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("refunded", sa.Integer(), nullable=False),
        sa.Column("paid_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name=op.f("fk_demo_wallet_trades_payment_id_payments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_demo_wallet_trades")),
        sa.UniqueConstraint("payment_id", name=op.f("uq_demo_wallet_trades_payment_id")),
        sa.UniqueConstraint("trade_no", name=op.f("uq_demo_wallet_trades_trade_no")),
    )
    op.create_table(
        "payment_notifications",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column(
            "payment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "outcome",
            sa.Enum(
                "applied",
                "duplicate",
                "rejected",
                name="notificationoutcome",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name=op.f("fk_payment_notifications_payment_id_payments"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_notifications")),
    )
    op.create_table(
        "refunds",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "payment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("request_no", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("reference", sa.String(length=120), nullable=False),
        sa.Column("provider_refund_no", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_refunds_amount_positive")),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name=op.f("fk_refunds_payment_id_payments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
        sa.UniqueConstraint(
            "payment_id", "request_no", name=op.f("uq_refunds_payment_id_request_no")
        ),
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("checkout_ref", sa.String(length=32), nullable=False),
        sa.Column(
            "region_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "merchant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("store_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "shopper_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "fulfilment",
            sa.Enum(
                "pickup",
                "reserve",
                "delivery",
                "shipping",
                name="fulfilment",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "placed",
                "paid",
                "accepted",
                "preparing",
                "ready",
                "out_for_delivery",
                "shipped",
                "collected",
                "delivered",
                "rejected",
                "cancelled",
                "expired",
                name="orderstatus",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("subtotal", sa.Integer(), nullable=False),
        sa.Column("discount", sa.Integer(), nullable=False),
        sa.Column("fee", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("refunded", sa.Integer(), nullable=False),
        sa.Column(
            "payment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("hold_until", UTCDateTime(timezone=True), nullable=True),
        sa.Column("pickup_start", UTCDateTime(timezone=True), nullable=True),
        sa.Column("pickup_end", UTCDateTime(timezone=True), nullable=True),
        sa.Column("address", sa.JSON(), nullable=True),
        sa.Column("address_lat", sa.Float(), nullable=True),
        sa.Column("address_lng", sa.Float(), nullable=True),
        sa.Column("distance_m", sa.Integer(), nullable=True),
        sa.Column("promised_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("paid_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("ready_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "refunded >= 0 AND refunded <= total", name=op.f("ck_orders_refunded_within_total")
        ),
        sa.CheckConstraint(
            "subtotal >= 0 AND discount >= 0 AND fee >= 0", name=op.f("ck_orders_amounts")
        ),
        sa.CheckConstraint(
            "total = subtotal - discount + fee", name=op.f("ck_orders_total_adds_up")
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_orders_merchant_id_merchants")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_orders_payment_id_payments")
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_orders_region_id_regions")
        ),
        sa.ForeignKeyConstraint(
            ["shopper_id"], ["users.id"], name=op.f("fk_orders_shopper_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_orders_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_checkout", ["checkout_ref"], unique=False)
        batch_op.create_index("ix_orders_payment", ["payment_id"], unique=False)
        batch_op.create_index("ix_orders_shopper", ["shopper_id", "id"], unique=False)
        batch_op.create_index("ix_orders_status_hold", ["status", "hold_until"], unique=False)
        batch_op.create_index("ix_orders_store_status", ["store_id", "status", "id"], unique=False)

    op.create_table(
        "redemption_codes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column(
            "kind", sa.Enum("pickup", name="codekind", native_enum=False, length=24), nullable=False
        ),
        sa.Column(
            "merchant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("store_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("subject", sa.String(length=120), nullable=False),
        sa.Column(
            "status",
            sa.Enum("active", "redeemed", "void", name="codestatus", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("redeemed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "redeemed_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "redeemed_store_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_redemption_codes_merchant_id_merchants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["redeemed_by"],
            ["users.id"],
            name=op.f("fk_redemption_codes_redeemed_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["redeemed_store_id"],
            ["stores.id"],
            name=op.f("fk_redemption_codes_redeemed_store_id_stores"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_redemption_codes_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redemption_codes")),
        sa.UniqueConstraint("code", name=op.f("uq_redemption_codes_code")),
    )
    with op.batch_alter_table("redemption_codes", schema=None) as batch_op:
        batch_op.create_index("ix_redemption_codes_subject", ["subject"], unique=False)

    op.create_table(
        "order_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("from_status", sa.String(length=24), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column(
            "actor_user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_user_id"],
            ["users.id"],
            name=op.f("fk_order_events_actor_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_events_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_events")),
    )
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.create_index("ix_order_events_order", ["order_id", "id"], unique=False)

    op.create_table(
        "order_lines",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "variant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("title_zh", sa.String(length=200), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("unit_price", sa.Integer(), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("line_total", sa.Integer(), nullable=False),
        sa.Column("returned_qty", sa.Integer(), nullable=False),
        sa.CheckConstraint("qty > 0", name=op.f("ck_order_lines_qty_positive")),
        sa.CheckConstraint(
            "returned_qty >= 0 AND returned_qty <= qty",
            name=op.f("ck_order_lines_returned_within_qty"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_lines_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_order_lines_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"], ["variants.id"], name=op.f("fk_order_lines_variant_id_variants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_lines")),
    )
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.create_index("ix_order_lines_order", ["order_id", "id"], unique=False)

    op.create_table(
        "stock_reservations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("store_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "variant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=120), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "held",
                "converted",
                "released",
                name="reservationstatus",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("qty > 0", name=op.f("ck_stock_reservations_qty_positive")),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_stock_reservations_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["variants.id"],
            name=op.f("fk_stock_reservations_variant_id_variants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_reservations")),
    )
    with op.batch_alter_table("stock_reservations", schema=None) as batch_op:
        batch_op.create_index("ix_stock_reservations_due", ["status", "expires_at"], unique=False)
        batch_op.create_index(
            "ix_stock_reservations_level",
            ["store_id", "variant_id", "status", "expires_at"],
            unique=False,
        )
        batch_op.create_index("ix_stock_reservations_reference", ["reference"], unique=False)

    op.add_column(
        "stores", sa.Column("prep_minutes", sa.Integer(), server_default="30", nullable=False)
    )
    op.add_column(
        "stores",
        sa.Column("reserve_hold_minutes", sa.Integer(), server_default="240", nullable=False),
    )
    op.add_column(
        "stores", sa.Column("delivery_fee", sa.Integer(), server_default="600", nullable=False)
    )
    op.add_column(
        "stores", sa.Column("delivery_minutes", sa.Integer(), server_default="30", nullable=False)
    )
    op.add_column(
        "stores", sa.Column("shipping_fee", sa.Integer(), server_default="1000", nullable=False)
    )


def downgrade() -> None:
    op.drop_column("stores", "shipping_fee")
    op.drop_column("stores", "delivery_minutes")
    op.drop_column("stores", "delivery_fee")
    op.drop_column("stores", "reserve_hold_minutes")
    op.drop_column("stores", "prep_minutes")

    with op.batch_alter_table("stock_reservations", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_reservations_reference")
        batch_op.drop_index("ix_stock_reservations_level")
        batch_op.drop_index("ix_stock_reservations_due")

    op.drop_table("stock_reservations")
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_order_lines_order")

    op.drop_table("order_lines")
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.drop_index("ix_order_events_order")

    op.drop_table("order_events")
    with op.batch_alter_table("redemption_codes", schema=None) as batch_op:
        batch_op.drop_index("ix_redemption_codes_subject")

    op.drop_table("redemption_codes")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_store_status")
        batch_op.drop_index("ix_orders_status_hold")
        batch_op.drop_index("ix_orders_shopper")
        batch_op.drop_index("ix_orders_payment")
        batch_op.drop_index("ix_orders_checkout")

    op.drop_table("orders")
    op.drop_table("refunds")
    op.drop_table("payment_notifications")
    op.drop_table("demo_wallet_trades")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index("ix_payments_status_created")
        batch_op.drop_index("ix_payments_reference")

    op.drop_table("payments")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_user")

    op.drop_table("notifications")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_due")

    op.drop_table("outbox")
