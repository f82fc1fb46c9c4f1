"""The demo's merchants, categories and what each sells."""

from __future__ import annotations

from dataclasses import dataclass, field

# code, name, name_zh, parent code
CATEGORIES: tuple[tuple[str, str, str, str | None], ...] = (
    ("shopping", "Shopping", "购物", None),
    ("apparel", "Apparel", "服饰", "shopping"),
    ("fashion-luxury", "Tailoring", "高级定制", "shopping"),
    ("grocery", "Groceries", "生鲜超市", "shopping"),
    ("food", "Food & drink", "美食", None),
    ("restaurant", "Restaurants", "餐厅", "food"),
    ("coffee", "Coffee & tea", "咖啡茶饮", "food"),
    ("services", "Services", "生活服务", None),
    ("spa", "Spa & massage", "水疗按摩", "services"),
    ("hair", "Hair salon", "美发", "services"),
    ("housekeeping", "Housekeeping", "家政保洁", "services"),
)


@dataclass(frozen=True)
class DemoMerchant:
    key: str
    name: str
    name_zh: str
    category: str
    stores_per_city: int
    hours: tuple[int, int]  # open, close in minutes; close may pass midnight
    pickup: bool = False
    reserve: bool = False
    delivery: bool = False
    shipping: bool = False
    booking: bool = False
    scan_go: bool = False
    delivery_radius_m: int = 3000
    short: str = ""
    short_zh: str = ""
    extra: dict[str, str] = field(default_factory=dict)


MERCHANTS = (
    DemoMerchant(
        "threads",
        "Urban Threads",
        "城市衣橱",
        "apparel",
        45,
        (600, 1320),
        pickup=True,
        reserve=True,
        delivery=True,
        shipping=True,
        scan_go=True,
    ),
    DemoMerchant(
        "fresh",
        "FreshHive",
        "鲜蜂超市",
        "grocery",
        40,
        (420, 1380),
        pickup=True,
        delivery=True,
        scan_go=True,
        delivery_radius_m=3000,
    ),
    DemoMerchant(
        "noodle",
        "Lanzhou Noodle House",
        "兰州拉面馆",
        "restaurant",
        30,
        (630, 1560),
        pickup=True,
        delivery=True,
        delivery_radius_m=3000,
    ),
    DemoMerchant(
        "cup",
        "Morning Cup",
        "晨杯咖啡",
        "coffee",
        40,
        (450, 1200),
        pickup=True,
        delivery=True,
        delivery_radius_m=2000,
    ),
    DemoMerchant(
        "sartoria",
        "Milano Sartoria",
        "米兰裁缝",
        "fashion-luxury",
        5,
        (600, 1260),
        pickup=True,
        reserve=True,
        shipping=True,
        booking=True,
    ),
    DemoMerchant("lotus", "Lotus Spa", "莲花水疗", "spa", 15, (660, 1380), booking=True),
    DemoMerchant("snip", "Snip Hair Studio", "剪艺美发", "hair", 15, (600, 1290), booking=True),
    DemoMerchant("homecare", "HomeCare", "到家保洁", "housekeeping", 5, (480, 1200), booking=True),
)
