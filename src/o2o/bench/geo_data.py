"""Deterministic data for the geo benchmarks (G1, G2).

Stores cluster around cities (Gaussian, σ 5-15 km) with a few scattered over the whole area;
variants have a Zipf popularity, and stock rows fall into three classes by how many stores
carry the variant: common (~50 % of stores), medium (~5 %) and rare (~0.1 %). Query points are
drawn from store density (a random store, jittered by a few hundred metres), because that is
where people search. Everything derives from one seed, so two runs generate the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from o2o.geo.grid import CELL_DEG, COLUMNS

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

CLASSES = ("common", "medium", "rare")
# Share of the stores that carry one variant of each class, and share of all stock rows.
CLASS_STORE_SHARE = {"common": 0.5, "medium": 0.05, "rare": 0.001}
CLASS_ROW_SHARE = {"common": 0.5, "medium": 0.4, "rare": 0.1}
# The area cities are placed in (degrees): wide enough to span many grid rows and columns.
AREA = (18.0, 45.0, 100.0, 125.0)  # min_lat, max_lat, min_lng, max_lng
CITIES = 50
SCATTERED = 0.05
INACTIVE = 0.01  # some closed stores, so every search must apply the is_active filter
OUT_OF_STOCK = 0.1  # rows with nothing available, so every G2 search must apply min_qty
METRES_PER_DEG = 111_195.0


@dataclass(frozen=True, slots=True)
class Scale:
    """How much to generate; ``name`` identifies a cached database."""

    stores: int = 100_000
    stock: int = 1_000_000
    products: int = 10_000
    queries: int = 2_000
    seed: int = 20_240_601

    @property
    def name(self) -> str:
        return f"s{self.stores}_k{self.stock}_p{self.products}_r{self.seed}"


@dataclass(slots=True)
class GeoData:
    """Columns of the generated rows; store ``i`` has id ``i + 1``, variant ``j`` id ``j + 1``."""

    scale: Scale
    store_lat: F64
    store_lng: F64
    store_active: npt.NDArray[np.bool_]
    variant_popularity: F64  # Zipf weights, summing to 1
    stock_store: I64  # store ids
    stock_variant: I64  # variant ids
    stock_on_hand: I64
    stock_reserved: I64
    class_variants: dict[str, I64] = field(default_factory=dict)  # class -> variant ids
    query_lat: F64 = field(default_factory=lambda: np.zeros(0))
    query_lng: F64 = field(default_factory=lambda: np.zeros(0))

    @property
    def store_ids(self) -> I64:
        return np.arange(1, len(self.store_lat) + 1, dtype=np.int64)

    @property
    def stock_available(self) -> I64:
        return self.stock_on_hand - self.stock_reserved


def cells_of(lat: F64, lng: F64) -> I64:
    """Vectorised ``o2o.geo.grid.cell_of`` (same floor arithmetic, so the same cells)."""
    rows = np.clip(np.floor((lat + 90.0) / CELL_DEG), 0, round(180 / CELL_DEG) - 1)
    cols = np.clip(np.floor((lng + 180.0) / CELL_DEG), 0, COLUMNS - 1)
    cells: I64 = (rows * COLUMNS + cols).astype(np.int64)
    return cells


def _stores(rng: np.random.Generator, n: int) -> tuple[F64, F64]:
    min_lat, max_lat, min_lng, max_lng = AREA
    city_lat = rng.uniform(min_lat + 1, max_lat - 1, CITIES)
    city_lng = rng.uniform(min_lng + 1, max_lng - 1, CITIES)
    city_sigma_m = rng.uniform(5_000, 15_000, CITIES)
    # City sizes follow a Zipf law, like real cities: a few metropolises, many small towns.
    weights = 1.0 / np.arange(1, CITIES + 1) ** 0.9
    weights /= weights.sum()
    n_scattered = round(n * SCATTERED)
    city = rng.choice(CITIES, size=n - n_scattered, p=weights)
    north = rng.normal(0.0, city_sigma_m[city])
    east = rng.normal(0.0, city_sigma_m[city])
    lat = city_lat[city] + north / METRES_PER_DEG
    lng = city_lng[city] + east / (METRES_PER_DEG * np.cos(np.radians(city_lat[city])))
    lat = np.concatenate([lat, rng.uniform(min_lat, max_lat, n_scattered)])
    lng = np.concatenate([lng, rng.uniform(min_lng, max_lng, n_scattered)])
    order = rng.permutation(n)  # scattered stores must not all have the highest ids
    return np.round(lat[order], 7), np.round(lng[order], 7)


def _class_sizes(scale: Scale) -> dict[str, tuple[int, int]]:
    """Per class: (number of variants, stores per variant), within the stock-row budget."""
    sizes: dict[str, tuple[int, int]] = {}
    left = scale.products
    for name in CLASSES:
        per_variant = max(1, round(scale.stores * CLASS_STORE_SHARE[name]))
        count = max(1, round(scale.stock * CLASS_ROW_SHARE[name] / per_variant))
        count = min(count, left)
        sizes[name] = (count, per_variant)
        left -= count
    return sizes


def generate(scale: Scale) -> GeoData:
    """All rows of the benchmark, reproducibly from ``scale.seed``."""
    rng = np.random.default_rng(scale.seed)
    lat, lng = _stores(rng, scale.stores)
    active = rng.random(scale.stores) >= INACTIVE

    popularity = 1.0 / np.arange(1, scale.products + 1) ** 1.1
    popularity /= popularity.sum()
    # Variant ids in popularity order are shuffled, so ids carry no meaning.
    by_rank = rng.permutation(scale.products).astype(np.int64) + 1
    popularity_by_id = np.empty(scale.products)
    popularity_by_id[by_rank - 1] = popularity

    stores_col: list[I64] = []
    variants_col: list[I64] = []
    classes: dict[str, I64] = {}
    rank = 0
    for name, (count, per_variant) in _class_sizes(scale).items():
        ids = by_rank[rank : rank + count]
        rank += count
        classes[name] = ids
        for vid in ids:
            chosen = rng.choice(scale.stores, size=per_variant, replace=False) + 1
            stores_col.append(chosen.astype(np.int64))
            variants_col.append(np.full(per_variant, vid, dtype=np.int64))
    stock_store = np.concatenate(stores_col)
    stock_variant = np.concatenate(variants_col)
    rows = len(stock_store)
    on_hand = rng.integers(1, 50, rows).astype(np.int64)
    reserved = np.zeros(rows, dtype=np.int64)
    empty = rng.random(rows) < OUT_OF_STOCK
    # Half of the empty rows sold out (on hand 0), half are fully reserved.
    sold_out = empty & (rng.random(rows) < 0.5)
    on_hand[sold_out] = 0
    reserved[empty & ~sold_out] = on_hand[empty & ~sold_out]

    data = GeoData(
        scale=scale,
        store_lat=lat,
        store_lng=lng,
        store_active=active,
        variant_popularity=popularity_by_id,
        stock_store=stock_store,
        stock_variant=stock_variant,
        stock_on_hand=on_hand,
        stock_reserved=reserved,
        class_variants=classes,
    )
    data.query_lat, data.query_lng = query_points(data, scale.queries, rng)
    return data


def query_points(data: GeoData, n: int, rng: np.random.Generator) -> tuple[F64, F64]:
    """Points drawn from store density: a random store moved by ~300 m in each direction."""
    pick = rng.integers(0, len(data.store_lat), n)
    lat = data.store_lat[pick] + rng.normal(0.0, 300.0, n) / METRES_PER_DEG
    cos = np.cos(np.radians(lat))
    lng = data.store_lng[pick] + rng.normal(0.0, 300.0, n) / (METRES_PER_DEG * cos)
    return np.round(lat, 7), np.round(lng, 7)


def class_queries(data: GeoData, name: str, n: int) -> I64:
    """The variant asked for by each of ``n`` queries of a class (a fixed, seeded draw)."""
    rng = np.random.default_rng([data.scale.seed, CLASSES.index(name)])
    return rng.choice(data.class_variants[name], size=n).astype(np.int64)
