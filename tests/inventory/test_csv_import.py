"""CSV stock import: every bad row reported exactly; all-or-nothing or partial."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.catalog import service as catalog_service
from o2o.inventory import csv_import, csv_rows
from o2o.inventory import queries as inventory_queries
from o2o.inventory.exceptions import ImportRejected, ImportTooLarge, ImportUnreadable
from o2o.inventory.models import StockMovement
from tests.factories import make_merchant, make_product, stock
from tests.inventory.scene import Shop, level_of, make_shop, reserve


async def mixed_file(session: AsyncSession, shop: Shop) -> bytes:
    """Two good rows and nine bad ones, one of each kind the importer must catch."""
    v = shop.variants
    store = shop.store
    await stock(session, store=store, variant_id=v[0].id, qty=5)
    await stock(session, store=store, variant_id=v[1].id, qty=4)
    await reserve(session, store=store, variant_id=v[1].id, qty=3)
    await stock(session, store=store, variant_id=v[4].id, qty=2)
    foreign = await make_product(session, merchant=await make_merchant(session), sizes=("M",))
    (fv,) = await catalog_service.variants_of(session, foreign.id)
    lines = [
        "sku,barcode,on_hand,delta,note",
        f"{v[0].sku},,8,,recount",  # 2: good, 5 -> 8
        "NOPE-1,,1,,",  # 3: unknown sku
        f"{v[1].sku},,2,,",  # 4: 3 reserved
        f",{v[2].barcode},,+6,delivery",  # 5: good, 0 -> 6
        f",{fv.barcode},1,,",  # 6: another merchant's barcode
        f"{v[3].sku},,3,,",  # 7: duplicate of row 8
        f",{v[3].barcode},,1,",  # 8: duplicate of row 7
        f"{v[4].sku},,,-3,",  # 9: only 2 on hand
        f"{v[5].sku},,-2,,",  # 10: negative on hand
        ",,,x,",  # 11: no product, not a number
        f"{v[6].sku},,7,1,",  # 12: both on_hand and delta
    ]
    return ("\n".join(lines) + "\n").encode()


EXPECTED_ERRORS = [
    (3, "sku", "unknown_sku"),
    (4, "on_hand", "below_reserved"),
    (6, "barcode", "not_merchant_variant"),
    (7, "sku", "duplicate_variant"),
    (8, "barcode", "duplicate_variant"),
    (9, "delta", "insufficient_stock"),
    (10, "on_hand", "negative_quantity"),
    (11, "sku", "missing_value"),
    (11, "delta", "not_an_integer"),
    (12, "delta", "conflicting_values"),
]


async def movement_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count(StockMovement.id))) or 0)


async def test_all_or_nothing_reports_every_bad_row_and_changes_nothing(
    session: AsyncSession,
) -> None:
    shop = await make_shop(session)
    data = await mixed_file(session, shop)
    before = [await level_of(session, shop.store, v.id) for v in shop.variants]
    movements = await movement_count(session)

    with pytest.raises(ImportRejected) as caught:
        await csv_import.import_stock_csv(session, store=shop.store, data=data)

    errors = caught.value.extra["errors"]
    assert [(e["row"], e["column"], e["code"]) for e in errors] == EXPECTED_ERRORS
    assert all(e["message"] for e in errors)
    assert "also on row(s) 8" in errors[3]["message"]
    assert [await level_of(session, shop.store, v.id) for v in shop.variants] == before
    assert await movement_count(session) == movements


async def test_partial_applies_the_good_rows_and_reports_the_bad(session: AsyncSession) -> None:
    shop = await make_shop(session)
    data = await mixed_file(session, shop)
    v = shop.variants

    report = await csv_import.import_stock_csv(session, store=shop.store, data=data, partial=True)

    assert (report.rows, report.applied, report.unchanged, report.rejected) == (11, 2, 0, 9)
    assert [(e.row, e.column, e.code) for e in report.errors] == EXPECTED_ERRORS
    assert [
        (r.row, r.variant_id, r.on_hand_before, r.on_hand, r.delta) for r in report.results
    ] == [
        (2, v[0].id, 5, 8, 3),
        (5, v[2].id, 0, 6, 6),
    ]
    assert await level_of(session, shop.store, v[0].id) == (8, 0)
    assert await level_of(session, shop.store, v[2].id) == (6, 0)
    assert await level_of(session, shop.store, v[1].id) == (4, 3)
    assert await level_of(session, shop.store, v[4].id) == (2, 0)
    notes = await session.scalars(
        select(StockMovement.note)
        .where(StockMovement.reference == "csv-import")
        .order_by(StockMovement.id)
    )
    assert list(notes) == ["recount", "delivery"]
    assert await inventory_queries.ledger_discrepancies(session) == []


async def test_clean_file_counts_unchanged_rows_and_accepts_variant_ids(
    session: AsyncSession,
) -> None:
    shop = await make_shop(session, sizes=("S", "M"))
    a, b = shop.variants
    await stock(session, store=shop.store, variant_id=a.id, qty=3)
    data = f"Variant ID;SKU;On Hand\n{a.id};{a.sku};3\n{b.id};;10\n\n".encode()

    report = await csv_import.import_stock_csv(session, store=shop.store, data=data)

    assert (report.rows, report.applied, report.unchanged, report.rejected) == (2, 1, 1, 0)
    assert [r.status for r in report.results] == ["unchanged", "applied"]
    assert await level_of(session, shop.store, b.id) == (10, 0)


async def test_identifiers_that_disagree_are_refused(session: AsyncSession) -> None:
    shop = await make_shop(session, sizes=("S", "M"))
    a, b = shop.variants
    data = f"variant_id,sku,on_hand\n{a.id},{b.sku},1\nabc,,1\n".encode()
    with pytest.raises(ImportRejected) as caught:
        await csv_import.import_stock_csv(session, store=shop.store, data=data)
    assert [(e["row"], e["column"], e["code"]) for e in caught.value.extra["errors"]] == [
        (2, None, "identifier_mismatch"),
        (3, "variant_id", "not_an_integer"),
    ]


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.encode("utf-8"),
        lambda text: text.encode("utf-8-sig"),
        lambda text: text.encode("gbk"),
        lambda text: text.encode("utf-16"),
    ],
    ids=["utf-8", "utf-8-bom", "gbk", "utf-16-bom"],
)
async def test_encodings_excel_produces_are_read(session: AsyncSession, encode: object) -> None:
    shop = await make_shop(session, sizes=("S",))
    (a,) = shop.variants
    text = f"sku,on_hand,note\r\n{a.sku},4,盘点 春季\r\n"
    report = await csv_import.import_stock_csv(
        session,
        store=shop.store,
        data=encode(text),  # type: ignore[operator]
    )
    assert report.applied == 1
    note = await session.scalar(select(StockMovement.note).where(StockMovement.variant_id == a.id))
    assert note == "盘点 春季"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty_file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\x00", "bad_encoding"),
        (b"sku,on_hand\n\xff\xff,1\n", "bad_encoding"),
    ],
)
async def test_unreadable_files_are_refused_with_a_code(
    session: AsyncSession, data: bytes, code: str
) -> None:
    shop = await make_shop(session, sizes=("S",))
    with pytest.raises(ImportUnreadable) as caught:
        await csv_import.import_stock_csv(session, store=shop.store, data=data)
    assert caught.value.extra["errors"][0]["code"] == code


async def test_missing_columns_are_reported_on_the_header_row(session: AsyncSession) -> None:
    shop = await make_shop(session, sizes=("S",))
    with pytest.raises(ImportRejected) as caught:
        await csv_import.import_stock_csv(
            session, store=shop.store, data=b"name,qty\nx,1\n", partial=True
        )
    assert [(e["row"], e["column"], e["code"]) for e in caught.value.extra["errors"]] == [
        (1, "sku", "missing_column"),
        (1, "on_hand", "missing_column"),
    ]


async def test_size_and_row_limits(session: AsyncSession, monkeypatch: pytest.MonkeyPatch) -> None:
    shop = await make_shop(session, sizes=("S",))
    (a,) = shop.variants
    with pytest.raises(ImportTooLarge):
        await csv_import.import_stock_csv(
            session, store=shop.store, data=b"sku,on_hand\n" + b"x" * csv_rows.MAX_BYTES
        )
    monkeypatch.setattr(csv_rows, "MAX_ROWS", 3)
    rows = "".join(f"{a.sku},{n}\n" for n in range(4))
    with pytest.raises(ImportTooLarge) as caught:
        await csv_import.import_stock_csv(
            session, store=shop.store, data=f"sku,on_hand\n{rows}".encode()
        )
    assert caught.value.status == 413
