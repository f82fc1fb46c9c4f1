"""Page tests: a small world built through the services, and a client that logs in by form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from o2o.accounts.models import MemberRole
from o2o.catalog import service as catalog_service
from o2o.catalog.models import Product
from o2o.merchants.models import Store
from o2o.regions.models import Region
from tests.factories import make_merchant, make_product, make_region, make_staff, make_store, stock
from tests.web import live
from tests.web.live import LiveServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

PASSWORD = "correct-horse-9"
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


@dataclass
class World:
    region: Region
    store: Store
    other_store: Store
    foreign_store: Store
    product: Product
    variant_ids: dict[tuple[str, str], int]  # (size, colour) -> variant id
    owner_email: str
    clerk_email: str
    stranger_email: str


@pytest.fixture
async def world(session: AsyncSession) -> World:
    region = await make_region(session, name="Testville", name_zh="测试城")
    merchant = await make_merchant(session, name="Urban Test", name_zh="城市测试")
    store = await make_store(session, merchant=merchant, region=region, name="Test Store A")
    other = await make_store(
        session, merchant=merchant, region=region, name="Test Store B", lat=region.center_lat + 0.01
    )
    rival = await make_merchant(session, name="Rival", name_zh="对手")
    foreign = await make_store(session, merchant=rival, region=region, name="Rival Store")
    product = await make_product(session, merchant=merchant, colors=("Navy", "Black"))
    variants = await catalog_service.variants_of(session, product.id)
    ids = {(v.attributes["size"], v.attributes["color"]): v.id for v in variants}
    await stock(session, store=store, variant_id=ids[("M", "Black")], qty=3)
    await stock(session, store=other, variant_id=ids[("M", "Black")], qty=9)
    owner, _ = await make_staff(session, merchant=merchant, role=MemberRole.OWNER)
    clerk, _ = await make_staff(
        session, merchant=merchant, role=MemberRole.CLERK, store_ids=[store.id]
    )
    stranger, _ = await make_staff(session, merchant=rival, role=MemberRole.OWNER)
    await session.commit()
    return World(
        region, store, other, foreign, product, ids, owner.email, clerk.email, stranger.email
    )


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


async def log_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> None:
    page = await client.get("/login")
    r = await client.post(
        "/login",
        data={
            "login": email,
            "password": password,
            "next": "/me",
            "csrf_token": csrf_of(page.text),
        },
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/me"


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live.require_chromium()
    yield from live.serve(tmp_path_factory.mktemp("browser"))


@pytest.fixture(scope="session")
def chromium(live_server: LiveServer) -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(live.CHROMIUM), headless=True, args=live.CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def new_page(browser: Browser, *, width: int = 390, height: int = 844, **options: Any) -> Page:
    context = browser.new_context(viewport={"width": width, "height": height}, **options)
    context.set_default_timeout(15_000)
    return context.new_page()


def screenshot(page: Page, name: str) -> None:
    live.ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(live.ARTIFACTS / f"{name}.png"))
