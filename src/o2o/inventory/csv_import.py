"""Bulk stock import from CSV: validate every row, then apply all, or only the good ones.

Columns: ``sku``, ``barcode`` or ``variant_id`` to name the product (several may be given;
they must agree), ``on_hand`` to set a counted quantity or ``delta`` to add/remove, and an
optional ``note``. Other columns are ignored, so an exported grid can be edited and sent
back. The rows' stock is locked (in variant order) before it is checked, so what was
checked is what is applied, all in the caller's one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.catalog.models import Variant
from o2o.core.clock import utcnow
from o2o.inventory import service as inventory_service
from o2o.inventory.csv_rows import ParsedRow, decode, parse
from o2o.inventory.exceptions import ImportRejected
from o2o.inventory.models import MovementKind, StockLevel, StockMovement
from o2o.inventory.schemas import MAX_QTY, ImportReport, ImportRowResult
from o2o.merchants.models import Store

_CHUNK = 5_000  # below every driver's limit on bound parameters
_UNKNOWN = {"variant_id": "unknown_variant", "sku": "unknown_sku", "barcode": "unknown_barcode"}


def _chunks(values: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


async def _lookup(session: AsyncSession, rows: list[ParsedRow], merchant_id: int) -> list[Variant]:
    """Variants any row names: the merchant's by sku, anyone's by id or barcode."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        for column, value in r.ids.items():
            wanted[column].add(value)
    ids = [int(v) for v in wanted["variant_id"] if v.isdigit() and len(v) < 19]
    found: dict[int, Variant] = {}
    for column, values in (
        ("id", ids),
        ("sku", sorted(wanted["sku"])),
        ("barcode", sorted(wanted["barcode"])),
    ):
        for chunk in _chunks(list(values)):
            query = select(Variant).where(getattr(Variant, column).in_(chunk))
            if column == "sku":
                query = query.where(Variant.merchant_id == merchant_id)
            for v in await session.scalars(query):
                found[v.id] = v
    return list(found.values())


def _resolve(row: ParsedRow, merchant_id: int, index: dict[tuple[str, str], list[Variant]]) -> int:
    """The row's variant id, or 0 after recording why there is none."""
    errors_before = len(row.errors)
    chosen: set[int] = set()
    for column, value in row.ids.items():
        matches = index.get((column, value), [])
        own = [v for v in matches if v.merchant_id == merchant_id]
        if column == "variant_id" and not value.isdigit():
            row.fail(column, "not_an_integer", f"'{value}' is not a variant id.")
        elif len(own) > 1:
            row.fail(column, "ambiguous_barcode", f"Several products have barcode '{value}'.")
        elif own:
            chosen.add(own[0].id)
        elif matches:
            row.fail(column, "not_merchant_variant", f"{column} '{value}' is another merchant's.")
        else:
            row.fail(
                column, _UNKNOWN[column], f"No product of this merchant has {column} '{value}'."
            )
    if len(chosen) > 1:
        row.fail(None, "identifier_mismatch", "The row's sku/barcode/variant_id disagree.")
    return chosen.pop() if len(chosen) == 1 and len(row.errors) == errors_before else 0


async def import_stock_csv(
    session: AsyncSession,
    *,
    store: Store,
    data: bytes,
    partial: bool = False,
    actor_user_id: int | None = None,
) -> ImportReport:
    """Check every row; apply them all (or, with ``partial``, the good ones) in one go.

    All-or-nothing imports with any bad row raise ``ImportRejected`` listing every error.
    """
    rows, _columns = parse(decode(data))
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        # Chunks of thousands of ids reuse one prepared statement; PostgreSQL's generic plan
        # for it tests the IN list row by row (quadratic). Custom plans hash it.
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    variants = await _lookup(session, rows, store.merchant_id)
    index: dict[tuple[str, str], list[Variant]] = defaultdict(list)
    for v in variants:
        index["variant_id", str(v.id)].append(v)
        index["sku", v.sku].append(v)
        if v.barcode:
            index["barcode", v.barcode].append(v)
    by_id = {v.id: v for v in variants}
    target_of: dict[int, int] = {}
    for r in rows:
        vid = _resolve(r, store.merchant_id, index) if r.ids else 0
        if vid:
            target_of[r.row] = vid
    _flag_duplicates(rows, target_of)

    levels = await _lock(session, store, sorted(set(target_of.values())))
    results: list[ImportRowResult] = []
    for r in rows:
        vid = target_of.get(r.row, 0)
        if not vid or r.errors:
            continue
        level = levels.get(vid)
        before, reserved = (level.on_hand, level.reserved) if level else (0, 0)
        after = r.qty if r.mode == "on_hand" else before + r.qty
        if after < 0:
            r.fail("delta", "insufficient_stock", f"Only {before} on hand; cannot remove {-r.qty}.")
        elif after < reserved:
            r.fail(r.mode, "below_reserved", f"{reserved} are reserved; on hand cannot be {after}.")
        elif after > MAX_QTY:
            r.fail(r.mode, "quantity_too_large", f"On hand is limited to {MAX_QTY}.")
        else:
            results.append(
                ImportRowResult(
                    row=r.row,
                    variant_id=vid,
                    sku=by_id[vid].sku,
                    on_hand_before=before,
                    on_hand=after,
                    available=after - reserved,
                    delta=after - before,
                    status="applied" if after != before else "unchanged",
                )
            )
    errors = [e for r in rows for e in r.errors]
    rejected = sum(1 for r in rows if r.errors)
    if errors and not partial:
        raise ImportRejected(
            f"{rejected} of {len(rows)} rows have errors; nothing was changed. "
            "Fix them, or import with apply=partial to apply the good rows.",
            field="file",
            errors=[e.model_dump() for e in errors],
        )
    notes = {r.row: r.note for r in rows}
    changes = [x for x in results if x.delta]
    ids = {v: level.id for v, level in levels.items()}
    await _apply(session, store, changes, ids, notes, actor_user_id)
    for level in levels.values():  # the bulk update left the loaded copies stale
        session.expire(level)
    applied = sum(1 for x in results if x.delta)
    return ImportReport(
        rows=len(rows),
        applied=applied,
        unchanged=len(results) - applied,
        rejected=rejected,
        results=results,
        errors=errors,
    )


async def _lock(
    session: AsyncSession, store: Store, variant_ids: list[int]
) -> dict[int, StockLevel]:
    """Create missing rows at zero, then lock them all in variant order: what is checked is
    what is changed, even if another request creates one of the rows meanwhile."""
    levels: dict[int, StockLevel] = {}
    for chunk in _chunks(variant_ids):
        existing = set(
            await session.scalars(
                select(StockLevel.variant_id).where(
                    StockLevel.store_id == store.id, StockLevel.variant_id.in_(chunk)
                )
            )
        )
        missing = [v for v in chunk if v not in existing]
        await inventory_service.ensure_levels(session, store=store, variant_ids=missing)
    for chunk in _chunks(variant_ids):
        levels |= await inventory_service.lock_levels(session, store_id=store.id, variant_ids=chunk)
    return levels


def _flag_duplicates(rows: list[ParsedRow], target_of: dict[int, int]) -> None:
    """Every row of a variant named more than once is refused: which one was meant?"""
    rows_of: dict[int, list[int]] = defaultdict(list)
    for row_number, vid in target_of.items():
        rows_of[vid].append(row_number)
    for r in rows:
        others = [n for n in rows_of.get(target_of.get(r.row, 0), []) if n != r.row]
        if others:
            column = next(iter(r.ids))
            listed = ", ".join(str(n) for n in others)
            r.fail(column, "duplicate_variant", f"The same product is also on row(s) {listed}.")


async def _apply(
    session: AsyncSession,
    store: Store,
    changes: list[ImportRowResult],
    ids: dict[int, int],
    notes: dict[int, str],
    actor_user_id: int | None,
) -> None:
    """Write the new quantities and one ledger movement each, in bulk (rows are locked)."""
    now = utcnow()
    for chunk in _chunks(changes):
        await session.execute(
            update(StockLevel),
            [{"id": ids[c.variant_id], "on_hand": c.on_hand, "updated_at": now} for c in chunk],
        )
        await session.execute(
            insert(StockMovement),
            [
                {
                    "store_id": store.id,
                    "variant_id": c.variant_id,
                    "region_id": store.region_id,
                    "kind": MovementKind.ADJUSTMENT,
                    "qty_delta": c.delta,
                    "on_hand_after": c.on_hand,
                    "reference": "csv-import",
                    "note": notes.get(c.row, ""),
                    "actor_user_id": actor_user_id,
                    "created_at": now,
                }
                for c in chunk
            ],
        )
