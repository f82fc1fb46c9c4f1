"""Fixtures of the payment tests: apps wired to the Alipay and WeChat Pay simulators."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from o2o.core.db import Database
from o2o.core.settings import Settings
from o2o.sandbox.alipay import AlipaySandbox
from tests.payments.alipay_scene import alipay_app
from tests.payments.wechat_scene import wechat, wechat_keys  # noqa: F401 (fixtures)


@pytest.fixture
def alipay(settings: Settings, database: Database) -> tuple[FastAPI, AlipaySandbox]:
    return alipay_app(settings, database)


@pytest.fixture
def sandbox(alipay: tuple[FastAPI, AlipaySandbox]) -> AlipaySandbox:
    return alipay[1]


@pytest.fixture
async def alipay_client(alipay: tuple[FastAPI, AlipaySandbox]) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=alipay[0])
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client
