"""Counted stock from a CSV file: check every row, then apply all of them or only the good ones.

The file has a header row with ``sku`` (or ``barcode``) and ``on_hand``; other columns are
ignored. Each row either passes or gets an error code: ``unknown_code``, ``bad_quantity``,
``duplicate`` or ``below_reserved``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.catalog.models import Variant
from o2o.core.errors import InvalidInput
from o2o.inventory import service as inventory_service
from o2o.inventory.models import MovementKind, StockLevel
from o2o.inventory.schemas import MAX_QTY
from o2o.merchants.models import Store

MAX_ROWS = 5000
CODE_COLUMNS = ("sku", "barcode", "code")


@dataclass
class CountRow:
    line: int
    code: str
    quantity_text: str
    on_hand: int | None = None
    variant_id: int | None = None
    error: str | None = None


def parse_counts(text: str) -> list[CountRow]:
    """Rows of a counts CSV; refuses a file without the needed columns or with too many rows."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    fields = [f.strip().lower() for f in reader.fieldnames or []]
    code_column = next((c for c in CODE_COLUMNS if c in fields), None)
    if code_column is None or "on_hand" not in fields:
        raise InvalidInput(
            "The first row must name the columns, including 'sku' and 'on_hand'.", field="file"
        )
    rows: list[CountRow] = []
    for record in reader:
        clean = {(k or "").strip().lower(): (v or "").strip() for k, v in record.items()}
        if not any(clean.values()):
            continue
        if len(rows) >= MAX_ROWS:
            raise InvalidInput(f"At most {MAX_ROWS} rows per file.", field="file")
        rows.append(CountRow(reader.line_num, clean.get(code_column, ""), clean.get("on_hand", "")))
    if not rows:
        raise InvalidInput("The file has no rows below the header.", field="file")
    return rows


async def check_counts(session: AsyncSession, *, store: Store, rows: list[CountRow]) -> None:
    """Resolve codes to the store's merchant's variants and mark each row's problem, if any."""
    codes = {r.code for r in rows if r.code}
    found: dict[str, int] = {}
    if codes:
        variants = await session.execute(
            select(Variant.id, Variant.sku, Variant.barcode).where(
                Variant.merchant_id == store.merchant_id,
                or_(Variant.sku.in_(codes), Variant.barcode.in_(codes)),
            )
        )
        for vid, sku, barcode in variants:
            found.setdefault(sku, vid)
            if barcode:
                found.setdefault(barcode, vid)
    reserved = dict(
        (
            await session.execute(
                select(StockLevel.variant_id, StockLevel.reserved).where(
                    StockLevel.store_id == store.id, StockLevel.variant_id.in_(found.values())
                )
            )
        ).all()
    )
    seen: set[int] = set()
    for row in rows:
        row.variant_id = found.get(row.code)
        try:
            row.on_hand = int(row.quantity_text)
        except ValueError:
            row.on_hand = None
        if row.variant_id is None:
            row.error = "unknown_code"
        elif row.on_hand is None or not 0 <= row.on_hand <= MAX_QTY:
            row.error = "bad_quantity"
        elif row.variant_id in seen:
            row.error = "duplicate"
        elif row.on_hand < reserved.get(row.variant_id, 0):
            row.error = "below_reserved"
        if row.variant_id is not None:
            seen.add(row.variant_id)


async def apply_counts(
    session: AsyncSession,
    *,
    store: Store,
    rows: list[CountRow],
    actor_user_id: int | None,
    reference: str,
) -> int:
    """Set on-hand for every row without an error; the ledger records each difference."""
    applied = 0
    for row in rows:
        if row.error or row.variant_id is None or row.on_hand is None:
            continue
        await inventory_service.set_on_hand(
            session,
            store=store,
            variant_id=row.variant_id,
            on_hand=row.on_hand,
            kind=MovementKind.ADJUSTMENT,
            reference=reference,
            note="CSV import",
            actor_user_id=actor_user_id,
        )
        applied += 1
    return applied
