"""``o2o check stock`` passes on a consistent ledger and fails, listing rows, otherwise."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import update
from typer.testing import CliRunner

from o2o.cli.main import app
from o2o.core.db import Database
from o2o.core.migrate import upgrade
from o2o.inventory.models import StockLevel
from tests.factories import stock
from tests.inventory.scene import make_shop


async def _seed(url: str, *, tamper: bool) -> None:
    db = Database.from_url(url)
    try:
        async with db.session() as session:
            shop = await make_shop(session, sizes=("S", "M"))
            for variant in shop.variants:
                await stock(session, store=shop.store, variant_id=variant.id, qty=4)
            if tamper:
                await session.execute(
                    update(StockLevel)
                    .where(StockLevel.variant_id == shop.variants[1].id)
                    .values(on_hand=6)
                )
            await session.commit()
    finally:
        await db.dispose()


def test_check_stock(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'check.db'}"
    upgrade(url)
    asyncio.run(_seed(url, tamper=False))
    runner = CliRunner()

    ok = runner.invoke(app, ["check", "stock", "--database-url", url])
    assert ok.exit_code == 0, ok.output
    assert "matches its ledger" in ok.output

    asyncio.run(_seed(url, tamper=True))
    bad = runner.invoke(app, ["check", "stock", "--database-url", url])
    assert bad.exit_code == 1
    assert "1 stock level(s) disagree" in bad.output
