"""``o2o ledger check`` passes on a ledger that balances and reconciles and lists every
difference otherwise; ``o2o ledger statement`` prints a day; the migration's backfill writes
the ledger of a database that had payments before it."""

from __future__ import annotations

import asyncio
import csv
import importlib
import io
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import delete, insert, select, update
from typer.testing import CliRunner

from o2o.bootstrap import create_app
from o2o.cli.main import app as cli
from o2o.core.clock import utcnow
from o2o.core.db import Database
from o2o.core.migrate import upgrade
from o2o.core.settings import Settings
from o2o.ledger.models import Entry, Journal
from o2o.orders import ledger_check
from o2o.payments.models import Payment
from tests.orders.scene import make_scene, pay, place

backfill_module: Any = importlib.import_module("o2o.migrations.versions.0007_money_ledger")


async def _trade(url: str, tmp: Path) -> tuple[int, int]:
    """An order paid and one paid then cancelled: (merchant id, kept order id)."""
    db = Database.from_url(url)
    try:
        async with db.session() as session:
            scene = await make_scene(session)
        app = create_app(
            Settings(database_url=url, data_dir=tmp, secret_key="test-secret-key-0123456789"),
            database=db,
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            kept = await pay(client, app, scene, (await place(client, scene)).json()["id"])
            gone = await pay(client, app, scene, (await place(client, scene)).json()["id"])
            await client.post(
                f"/api/v1/orders/{gone['id']}/cancel",
                json={"reason": ""},
                headers=scene.shopper_headers,
            )
        return scene.merchant.id, kept["id"]
    finally:
        await db.dispose()


async def _run(url: str, sql: Any) -> None:
    db = Database.from_url(url)
    try:
        async with db.session() as session:
            await session.execute(sql)
            await session.commit()
    finally:
        await db.dispose()


def test_check_and_statement(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ledger.db'}"
    upgrade(url)
    merchant_id, kept = asyncio.run(_trade(url, tmp_path))
    runner = CliRunner()

    ok = runner.invoke(cli, ["ledger", "check", "--database-url", url])
    assert ok.exit_code == 0, ok.output
    assert "the ledger balances and reconciles (3 journals checked)" in ok.output

    today = utcnow().astimezone(ZoneInfo("Asia/Shanghai")).date()
    printed = runner.invoke(
        cli,
        [
            "ledger",
            "statement",
            "--merchant",
            str(merchant_id),
            "--date",
            today.isoformat(),
            "--csv",
            "--database-url",
            url,
        ],
    )
    assert printed.exit_code == 0, printed.output
    rows = list(csv.DictReader(io.StringIO(printed.output)))
    assert rows[0]["order_id"] == str(kept)
    assert rows[-1]["kind"] == "total"
    assert rows[-1]["net"] == "189.05"
    table = runner.invoke(
        cli,
        [
            "ledger",
            "statement",
            "--merchant",
            str(merchant_id),
            "--date",
            today.isoformat(),
            "--database-url",
            url,
        ],
    )
    assert "net payable 189.05" in " ".join(table.output.split())  # rich wraps at 80
    bad = runner.invoke(
        cli,
        ["ledger", "statement", "--merchant", "1", "--date", "2026-02-30", "--database-url", url],
    )
    assert bad.exit_code == 2
    assert "YYYY-MM-DD" in bad.output

    # A captured amount that no longer matches its payment, and an entry made up out of thin
    # air: both listed, and the exit status says so.
    asyncio.run(_run(url, update(Payment).values(amount=Payment.amount + 1)))
    asyncio.run(
        _run(
            url,
            insert(Entry).values(
                journal_id=select(Journal.id).limit(1).scalar_subquery(),
                account="platform_commission",
                amount=7,
                currency="CNY",
            ),
        )
    )
    failed = runner.invoke(cli, ["ledger", "check", "--database-url", url])
    assert failed.exit_code == 1
    for words in ("journal_unbalanced", "ledger_unbalanced", "payment_capture", "payment 1"):
        assert words in failed.output, words


async def _backfill(url: str) -> tuple[list[object], int, int]:
    """Forget the ledger, write it again from payments and refunds (twice: the second time
    writes nothing), and check it."""
    db = Database.from_url(url)
    try:
        async with db.session() as session:
            await session.execute(delete(Entry))
            await session.execute(delete(Journal))
            await session.commit()
        async with db.engine.begin() as conn:
            await conn.run_sync(backfill_module.backfill)
        async with db.engine.begin() as conn:
            await conn.run_sync(backfill_module.backfill)
        async with db.session() as session:
            found = await ledger_check.differences(session)
            journals = len(list(await session.scalars(select(Journal.id))))
            fees = len(
                list(
                    await session.scalars(
                        select(Entry.id).where(Entry.account == "platform_commission")
                    )
                )
            )
            return list(found), journals, fees
    finally:
        await db.dispose()


def test_the_migration_writes_the_ledger_of_earlier_payments(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    upgrade(url)
    asyncio.run(_trade(url, tmp_path))
    found, journals, fees = asyncio.run(_backfill(url))
    assert found == []
    assert journals == 3  # two captures, one refund
    assert fees == 0  # no commission was agreed before the ledger
