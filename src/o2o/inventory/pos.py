"""Point-of-sale sync: an offline sale lowers stock at once, and is applied once per sale id.

The sale already happened at the till, so it is never refused for lack of stock: each line
takes what is available (on hand minus reserved, never below zero) and reports the rest as
a shortfall, a discrepancy the merchant should look at. Stock held for online orders stays
held. A line naming an unknown product refuses the whole sale, so the POS can correct it
and send it again under the same sale id.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.catalog.models import Variant
from o2o.inventory import service as inventory_service
from o2o.inventory.exceptions import SaleIdConflict, UnknownSaleItems
from o2o.inventory.models import MovementKind, PosSale
from o2o.inventory.schemas import PosLineResult, PosSaleCreate, PosSaleLine, PosSaleRead
from o2o.merchants.models import Store


async def _resolve(
    session: AsyncSession, *, merchant_id: int, lines: list[PosSaleLine]
) -> list[Variant]:
    """The merchant's variant for every line, in line order; all unknown lines are reported."""
    ids = {line.variant_id for line in lines if line.variant_id is not None}
    barcodes = {line.barcode for line in lines if line.barcode is not None}
    skus = {line.sku for line in lines if line.sku is not None}
    found = list(
        await session.scalars(
            select(Variant).where(
                Variant.merchant_id == merchant_id,
                or_(Variant.id.in_(ids), Variant.barcode.in_(barcodes), Variant.sku.in_(skus)),
            )
        )
    )
    by_id = {v.id: v for v in found}
    by_sku = {v.sku: v for v in found}
    by_barcode: dict[str, list[Variant]] = {}
    for v in found:
        if v.barcode is not None:
            by_barcode.setdefault(v.barcode, []).append(v)
    resolved: list[Variant] = []
    errors: list[dict[str, Any]] = []
    for n, line in enumerate(lines, start=1):
        if line.variant_id is not None:
            field, value, match = "variant_id", str(line.variant_id), by_id.get(line.variant_id)
        elif line.sku is not None:
            field, value, match = "sku", line.sku, by_sku.get(line.sku)
        else:
            field, value = "barcode", str(line.barcode)
            candidates = by_barcode.get(value, [])
            match = candidates[0] if len(candidates) == 1 else None
            if len(candidates) > 1:
                errors.append(
                    {
                        "line": n,
                        "field": f"lines.{n - 1}.barcode",
                        "code": "ambiguous_barcode",
                        "message": f"Several products of this merchant have barcode '{value}'.",
                    }
                )
                continue
        if match is None:
            errors.append(
                {
                    "line": n,
                    "field": f"lines.{n - 1}.{field}",
                    "code": "unknown_item",
                    "message": f"This merchant has no product with {field} '{value}'.",
                }
            )
        else:
            resolved.append(match)
    if errors:
        raise UnknownSaleItems(
            f"{len(errors)} line(s) name no product of this merchant; nothing was applied.",
            field=errors[0]["field"],
            errors=errors,
        )
    return resolved


def _read(sale: PosSale) -> PosSaleRead:
    lines = [PosLineResult.model_validate(line) for line in sale.lines]
    return PosSaleRead(
        sale_id=sale.external_id,
        store_id=sale.store_id,
        occurred_at=sale.occurred_at,
        lines=lines,
        shortfall=sum(line.shortfall for line in lines),
    )


async def record_pos_sale(
    session: AsyncSession, *, store: Store, data: PosSaleCreate, actor_user_id: int | None = None
) -> tuple[PosSaleRead, bool]:
    """Apply an offline sale; ``(result, created)``. A sale id seen before with the same lines
    changes nothing and returns the first result (``created`` is False); with other lines it
    is refused (``SaleIdConflict``)."""
    variants = await _resolve(session, merchant_id=store.merchant_id, lines=data.lines)
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    # Claim the sale id first: a concurrent duplicate waits here on the unique index.
    sale_pk = await session.scalar(
        insert(PosSale)
        .values(store_id=store.id, external_id=data.sale_id, occurred_at=data.occurred_at, lines=[])
        .on_conflict_do_nothing(index_elements=["store_id", "external_id"])
        .returning(PosSale.id)
    )
    if sale_pk is None:
        existing = await session.scalar(
            select(PosSale)
            .where(PosSale.store_id == store.id, PosSale.external_id == data.sale_id)
            .execution_options(populate_existing=True)
        )
        assert existing is not None  # noqa: S101  # the conflicting row is committed
        sent = [(v.id, line.qty) for line, v in zip(data.lines, variants, strict=True)]
        recorded = [(int(r["variant_id"]), int(r["requested"])) for r in existing.lines]
        if sent != recorded:
            raise SaleIdConflict(
                f"Sale '{data.sale_id}' was already recorded with other lines, and those stand. "
                "Send a correction as a sale or a return of its own, with a new sale id.",
                field="sale_id",
            )
        return _read(existing), False

    levels = await inventory_service.lock_levels(
        session, store_id=store.id, variant_ids=[v.id for v in variants]
    )
    # What each row holds as the lines are applied (a variant may be on several lines).
    now = {vid: (level.on_hand, level.available) for vid, level in levels.items()}
    results: list[PosLineResult] = []
    for n, (line, variant) in enumerate(zip(data.lines, variants, strict=True), start=1):
        on_hand, available = now.get(variant.id, (0, 0))
        applied = min(line.qty, available)
        if applied:
            change = await inventory_service.remove_stock(
                session,
                store=store,
                variant_id=variant.id,
                qty=applied,
                kind=MovementKind.POS_SALE,
                reference=data.sale_id,
                actor_user_id=actor_user_id,
            )
            on_hand, available = change.on_hand, change.available
            now[variant.id] = (on_hand, available)
        results.append(
            PosLineResult(
                line=n,
                variant_id=variant.id,
                sku=variant.sku,
                requested=line.qty,
                applied=applied,
                shortfall=line.qty - applied,
                on_hand=on_hand,
                available=available,
            )
        )
    await session.execute(
        update(PosSale)
        .where(PosSale.id == sale_pk)
        .values(lines=[r.model_dump(mode="json") for r in results])
    )
    read = PosSaleRead(
        sale_id=data.sale_id,
        store_id=store.id,
        occurred_at=data.occurred_at.astimezone(UTC),  # as stored, so a repeat reads the same
        lines=results,
        shortfall=sum(r.shortfall for r in results),
    )
    return read, True
