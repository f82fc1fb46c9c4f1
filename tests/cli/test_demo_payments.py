"""``o2o demo --payments``: the default keeps the demo wallet alone; ``alipay-sandbox`` makes
the keys under the data directory and runs Alipay against the simulator in the same app."""

from __future__ import annotations

from pathlib import Path

import httpx

from o2o.bootstrap import create_app
from o2o.cli.demo import Payments, demo_settings, start_sandboxes

BASE = "http://127.0.0.1:8000"


def test_the_default_demo_is_unchanged(tmp_path: Path) -> None:
    assert start_sandboxes([Payments.DEMO], data_dir=tmp_path, base_url=BASE) == []
    settings = demo_settings(tmp_path, base_url=BASE, sandboxes=[])
    assert settings.payment_providers == ["demo"]
    assert not settings.alipay_sandbox


async def test_alipay_sandbox_makes_keys_and_mounts_the_simulator(tmp_path: Path) -> None:
    settings = demo_settings(tmp_path, base_url=BASE, sandboxes=[], alipay=True).model_copy(
        update={"secret_key": "test-secret-key-0123456789"}
    )
    assert settings.payment_providers == ["alipay", "demo"]
    assert sorted(p.name for p in (tmp_path / "alipay-sandbox").iterdir()) == [
        "alipay_private_key.pem",
        "alipay_public_key.pem",
        "app_private_key.pem",
        "app_public_key.pem",
    ]
    app = create_app(settings)
    assert app.state.payment_providers.names == ["alipay", "demo"]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        wallet = await client.get("/sandbox/alipay/qr/nothing-here")
    assert wallet.status_code == 404
    assert "Alipay" in wallet.text
    # the keys are made once: a second start uses the same ones
    again = demo_settings(tmp_path, base_url=BASE, sandboxes=[], alipay=True)
    assert again.alipay_public_key_path == settings.alipay_public_key_path
