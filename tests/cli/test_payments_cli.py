"""``o2o payments failed-refunds`` lists what the provider refused; ``o2o payments
retry-refund`` makes one now under its own request number, and refuses anything else."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from o2o.bootstrap import create_app
from o2o.cli.main import app as cli
from o2o.core.db import Database
from o2o.core.migrate import upgrade
from o2o.core.settings import Settings
from o2o.payments import refunds
from o2o.payments.demo_wallet import DemoWalletRefund
from o2o.payments.exceptions import RefundNotFound, RefundNotRetryable
from o2o.payments.models import Refund, RefundStatus
from tests.orders.scene import make_scene, pay, place


async def _failed_refund(url: str, tmp: Path) -> tuple[int, str]:
    """A paid order cancelled, its refund refused by the wallet: (refund id, request no)."""
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
            order = await pay(client, app, scene, (await place(client, scene)).json()["id"])
            await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=scene.shopper_headers)
        async with db.session() as session:
            [row] = await refunds.with_status(session, status=RefundStatus.PENDING)
            await refunds.fail(session, refund_id=row.id, error="wallet_refused: not now")
            await session.commit()
            return row.id, row.request_no
    finally:
        await db.dispose()


async def _state(url: str, refund_id: int) -> tuple[Refund | None, list[str]]:
    db = Database.from_url(url)
    try:
        async with db.session() as session:
            row = await session.get(Refund, refund_id)
            made = list(await session.scalars(select(DemoWalletRefund.request_no)))
            return row, made
    finally:
        await db.dispose()


def test_failed_refunds_are_listed_and_a_retry_makes_one_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'refunds.db'}"
    upgrade(url)
    monkeypatch.setenv("O2O_DATA_DIR", str(tmp_path))
    refund_id, number = asyncio.run(_failed_refund(url, tmp_path))
    runner = CliRunner()

    listed = runner.invoke(cli, ["payments", "failed-refunds", "--database-url", url])
    assert listed.exit_code == 0, listed.output
    assert "1 failed refund(s)" in listed.output
    assert number in listed.output
    assert "not now" in listed.output  # the last error (folded at 80 columns)

    retried = runner.invoke(
        cli, ["payments", "retry-refund", str(refund_id), "--database-url", url]
    )
    assert retried.exit_code == 0, retried.output
    assert f"refund {refund_id} made" in retried.output
    row, made = asyncio.run(_state(url, refund_id))
    assert row is not None
    assert (row.status, row.request_no) == (RefundStatus.SUCCEEDED, number)
    assert made == [number]

    # a refund already made, or one that does not exist, is refused; nothing changes
    again = runner.invoke(cli, ["payments", "retry-refund", str(refund_id), "--database-url", url])
    assert isinstance(again.exception, RefundNotRetryable)
    missing = runner.invoke(cli, ["payments", "retry-refund", "999", "--database-url", url])
    assert isinstance(missing.exception, RefundNotFound)
    assert asyncio.run(_state(url, refund_id))[1] == [number]
    empty = runner.invoke(cli, ["payments", "failed-refunds", "--database-url", url])
    assert "no failed refunds" in empty.output
