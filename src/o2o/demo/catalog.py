"""What the demo merchants sell, and how much of it each store holds."""

from __future__ import annotations

import random

from sqlalchemy.ext.asyncio import AsyncSession

from o2o.catalog import service as catalog_service
from o2o.catalog.schemas import ProductCreate, VariantCreate
from o2o.inventory import service as inventory_service
from o2o.merchants import service as merchants_service

SIZES = ("XS", "S", "M", "L", "XL", "XXL")
SIZE_WEIGHT = {"XS": 0.5, "S": 0.9, "M": 1.3, "L": 1.3, "XL": 0.9, "XXL": 0.5}

# key: list of (title, title_zh, brand/kind, price in fen, attribute sets)
APPAREL = (
    ("Ultra Light Down Jacket", "高级轻型羽绒服", 49900, ("Navy", "Black", "Olive")),
    ("Supima Cotton Crew T-Shirt", "Supima棉圆领T恤", 7900, ("White", "Black", "Grey")),
    ("Slim Fit Jeans", "修身牛仔裤", 19900, ("Blue", "Black", "Grey")),
    ("Fleece Full-Zip Jacket", "摇粒绒拉链外套", 14900, ("Grey", "Navy", "Beige")),
    ("Oxford Shirt", "牛津纺衬衫", 14900, ("White", "Blue", "Pink")),
    ("Merino Crew Neck Sweater", "美利奴羊毛圆领毛衣", 19900, ("Navy", "Grey", "Red")),
    ("Chino Pants", "卡其休闲裤", 14900, ("Beige", "Navy", "Olive")),
    ("Sweat Hoodie", "连帽卫衣", 14900, ("Grey", "Black", "Green")),
    ("Linen Blend Shirt", "亚麻混纺衬衫", 12900, ("White", "Beige", "Blue")),
    ("Packable Parka", "便携式连帽外套", 19900, ("Black", "Olive", "Yellow")),
    ("Heat-Retaining Long Sleeve T-Shirt", "保暖长袖T恤", 7900, ("Black", "White", "Wine")),
    ("Wide Leg Pants", "阔腿裤", 14900, ("Black", "Beige", "Brown")),
)
SUITS = (
    ("Wool Travel Suit", "羊毛旅行西装", 1290000, ("Charcoal", "Navy")),
    ("Cashmere Blazer", "羊绒西装外套", 980000, ("Camel", "Navy")),
    ("Silk Tie", "真丝领带", 129000, ("Navy", "Wine")),
    ("Leather Derby Shoes", "皮质德比鞋", 690000, ("Black", "Brown")),
)
SUIT_SIZES = ("46", "48", "50", "52", "54")
GROCERIES = (
    ("Organic Milk 1 L", "有机纯牛奶 1升", 1590),
    ("Free-Range Eggs (10)", "散养鸡蛋 10枚", 2290),
    ("Jasmine Rice 5 kg", "茉莉香米 5公斤", 5990),
    ("Bananas 1 kg", "香蕉 1公斤", 890),
    ("Fuji Apples 1 kg", "红富士苹果 1公斤", 1290),
    ("Norwegian Salmon 300 g", "挪威三文鱼 300克", 6990),
    ("Tofu 400 g", "嫩豆腐 400克", 450),
    ("Bok Choy 500 g", "上海青 500克", 590),
    ("Pork Belly 500 g", "五花肉 500克", 2890),
    ("Shrimp 500 g", "鲜虾 500克", 4990),
    ("Soy Sauce 500 ml", "生抽酱油 500毫升", 1190),
    ("Green Tea 250 g", "龙井绿茶 250克", 8800),
    ("Whole Wheat Bread", "全麦面包", 1490),
    ("Yogurt 4-pack", "原味酸奶 4杯装", 1690),
    ("Mineral Water 12 x 550 ml", "矿泉水 550毫升×12", 2400),
    ("Dumplings 1 kg", "速冻水饺 1公斤", 3290),
    ("Strawberries 500 g", "草莓 500克", 3990),
    ("Avocados (2)", "牛油果 2个", 1990),
    ("Instant Noodles 5-pack", "方便面 5连包", 1250),
    ("Sesame Oil 250 ml", "芝麻香油 250毫升", 1890),
)
DRINKS = (
    ("Latte", "拿铁", 2800),
    ("Americano", "美式咖啡", 2200),
    ("Flat White", "澳白", 3000),
    ("Matcha Latte", "抹茶拿铁", 3200),
    ("Osmanthus Oolong", "桂花乌龙", 2400),
    ("Coconut Cold Brew", "生椰冷萃", 3300),
)
DISHES = (
    ("Lanzhou Beef Noodles", "兰州牛肉面", 2200),
    ("Spicy Beef Noodles", "麻辣牛肉面", 2600),
    ("Lamb Skewers (5)", "羊肉串 5串", 3000),
    ("Cold Noodles", "凉面", 1800),
    ("Braised Beef Rice", "红烧牛肉饭", 2800),
    ("Smashed Cucumber", "拍黄瓜", 1200),
)


def ean13(body12: str) -> str:
    """A valid EAN-13: twelve digits plus their check digit."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body12))
    return body12 + str((10 - total % 10) % 10)


def _apparel(
    brand: int, n: int, item: tuple[str, str, int, tuple[str, ...]], sizes: tuple[str, ...]
) -> ProductCreate:
    title, title_zh, price, colors = item
    prefix = "UT" if brand == 1 else "MS"
    variants = [
        VariantCreate(
            sku=f"{prefix}{n:03d}-{color.upper()}-{size}",
            barcode=ean13(f"69{brand}{n:03d}{ci}{si:02d}000"),
            attributes={"size": size, "color": color},
            price=price,
        )
        for ci, color in enumerate(colors)
        for si, size in enumerate(sizes)
    ]
    brand_name = "Urban Threads" if brand == 1 else "Milano Sartoria"
    return ProductCreate(title=title, title_zh=title_zh, brand=brand_name, variants=variants)


def _grocery(n: int, item: tuple[str, str, int]) -> ProductCreate:
    title, title_zh, price = item
    variant = VariantCreate(sku=f"FH{n:03d}", barcode=ean13(f"693{n:04d}00000"), price=price)
    return ProductCreate(title=title, title_zh=title_zh, variants=[variant])


def _menu(prefix: str, n: int, item: tuple[str, str, int], sizes: tuple[str, ...]) -> ProductCreate:
    title, title_zh, price = item
    variants = [
        VariantCreate(
            sku=f"{prefix}{n:03d}-{size}",
            attributes={"size": size} if len(sizes) > 1 else {},
            price=price + i * 400,
        )
        for i, size in enumerate(sizes)
    ]
    return ProductCreate(title=title, title_zh=title_zh, variants=variants)


def products_for(key: str) -> tuple[list[ProductCreate], str | None]:
    """The products of a demo merchant and the category they belong to."""
    if key == "threads":
        return [_apparel(1, i, item, SIZES) for i, item in enumerate(APPAREL)], "apparel"
    if key == "sartoria":
        return [_apparel(2, i, item, SUIT_SIZES) for i, item in enumerate(SUITS)], "fashion-luxury"
    if key == "fresh":
        return [_grocery(i, item) for i, item in enumerate(GROCERIES)], "grocery"
    if key == "cup":
        return [
            _menu("MC", i, item, ("Regular", "Large")) for i, item in enumerate(DRINKS)
        ], "coffee"
    if key == "noodle":
        return [_menu("LN", i, item, ("Bowl",)) for i, item in enumerate(DISHES)], "restaurant"
    return [], None


def _quantity(rnd: random.Random, key: str, attributes: dict[str, str]) -> int:
    if key in ("cup", "noodle"):
        return rnd.randint(20, 80)  # portions for today
    if key == "fresh":
        return 0 if rnd.random() < 0.08 else rnd.randint(3, 60)
    if key == "sartoria":
        return 0 if rnd.random() < 0.5 else rnd.randint(1, 2)
    weight = SIZE_WEIGHT.get(attributes.get("size", "M"), 1.0)
    if rnd.random() < 0.25 / weight:
        return 0
    return max(0, round(rnd.gauss(3.5 * weight, 2)))


async def seed_catalog(
    session: AsyncSession,
    *,
    rnd: random.Random,
    merchant_id: int,
    key: str,
    store_ids: list[int],
) -> int:
    """Create the merchant's products and stock every store; returns stock rows created."""
    creates, category = products_for(key)
    variants: list[tuple[int, dict[str, str]]] = []
    for data in creates:
        data.category = category
        product = await catalog_service.create_product(session, merchant_id=merchant_id, data=data)
        variants.extend(
            (v.id, v.attributes) for v in await catalog_service.variants_of(session, product.id)
        )
    rows = 0
    for store_id in store_ids:
        store = await merchants_service.get_store(session, store_id=store_id)
        quantities = {vid: _quantity(rnd, key, attrs) for vid, attrs in variants}
        rows += await inventory_service.initial_stock(session, store=store, quantities=quantities)
    return rows
