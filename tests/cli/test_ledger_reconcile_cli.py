"""``o2o ledger reconcile``: the demo wallet's day against our books, as a table, CSV and
JSON; exit status 1 with a difference; clear errors for a bad provider or date."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

import httpx
from sqlalchemy import update
from typer.testing import CliRunner

from o2o.bootstrap import create_app
from o2o.cli.main import app as cli
from o2o.core.clock import utcnow
from o2o.core.db import Database
from o2o.core.migrate import upgrade
from o2o.core.settings import Settings
from o2o.payments.demo_wallet import DemoWalletTrade
from tests.orders.scene import make_scene, pay, place


async def _paid(url: str, tmp: Path) -> dict[str, int]:
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
            order: dict[str, int] = await pay(
                client, app, scene, (await place(client, scene)).json()["id"]
            )
            return order
    finally:
        await db.dispose()


async def _change_wallet_amount(url: str) -> None:
    db = Database.from_url(url)
    try:
        async with db.session() as session:
            await session.execute(update(DemoWalletTrade).values(amount=DemoWalletTrade.amount + 5))
            await session.commit()
    finally:
        await db.dispose()


def test_reconcile_the_demo_wallet(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'reconcile.db'}"
    upgrade(url)
    order = asyncio.run(_paid(url, tmp_path))
    today = utcnow().date().isoformat()  # the demo wallet's day is a UTC day
    runner = CliRunner()
    args = ["ledger", "reconcile", "--provider", "demo", "--date", today, "--database-url", url]

    ok = runner.invoke(cli, args)
    assert ok.exit_code == 0, ok.output
    text = " ".join(ok.output.split())
    assert "our books and the bill agree" in text
    assert "matched: 1" in text
    assert f"1 payments {order['total'] / 100:.2f}" in text

    as_json = runner.invoke(cli, [*args, "--json"])
    assert as_json.exit_code == 0, as_json.output
    report = json.loads(as_json.output)
    assert (report["provider"], report["date"], report["timezone"]) == ("demo", today, "UTC")
    assert report["ours"] == report["theirs"]
    assert report["ours"][0]["payments_amount"] == order["total"]

    # the wallet's trade says 5 fen more than we captured
    asyncio.run(_change_wallet_amount(url))
    failed = runner.invoke(cli, args)
    assert failed.exit_code == 1, failed.output
    assert "amount_differs" in failed.output
    rows = list(csv.DictReader(io.StringIO(runner.invoke(cli, [*args, "--csv"]).output)))
    assert [(r["kind"], r["payment_id"], r["ours"], r["theirs"]) for r in rows] == [
        (
            "amount_differs",
            str(order["payment_id"]),
            f"{order['total'] / 100:.2f}",
            f"{(order['total'] + 5) / 100:.2f}",
        )
    ]

    bad_date = runner.invoke(cli, [*args[:4], "--date", "2026-13-01", "--database-url", url])
    assert bad_date.exit_code == 2
    assert "YYYY-MM-DD" in bad_date.output
    unknown = runner.invoke(cli, ["ledger", "reconcile", "--provider", "paypal", "--date", today])
    assert unknown.exit_code == 2
    assert "Unknown payment provider 'paypal'" in unknown.output
    disabled = runner.invoke(cli, ["ledger", "reconcile", "--provider", "wechat", "--date", today])
    assert disabled.exit_code == 2
    assert "'wechat' is not enabled here" in " ".join(disabled.output.split())
