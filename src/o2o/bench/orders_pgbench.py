"""The ceiling: pgbench running the SQL of one order placement, with no Python in the way.

The transaction is the write set of ``placement._place_part``: the conditional ``UPDATE`` of
the stock level, then the order, its line, its event, its outbox message and its
reservation, committed together. The ``FOR UPDATE`` variant locks the level with a
``SELECT … FOR UPDATE`` first and updates it only if a unit is available (the design the
conditional update replaces). Rows are chosen by pgbench itself: one hot level (O1), or a
store uniformly and a variant by Zipf popularity (O2), as the HTTP buyers choose them.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

INSTALL_HINT = (
    "pgbench is not installed: on Debian/Ubuntu `apt-get install postgresql-client` "
    "(it ships /usr/bin/pgbench); elsewhere install PostgreSQL's client tools."
)

PICK_HOT = r"""
\set s :store
\set v :variant
"""
PICK_ZIPF = r"""
\set s :store + random(0, :stores - 1)
\set v :variant + random_zipfian(0, :variants - 1, :zipf)
"""
ORDER = r"""
INSERT INTO orders (checkout_ref, region_id, merchant_id, store_id, shopper_id, fulfilment,
  status, currency, subtotal, discount, fee, total, refunded, hold_until, pickup_start,
  pickup_end, reason, created_at, updated_at)
VALUES (md5(random()::text)::varchar(16), :region, :merchant, :s, :shopper, 'pickup', 'placed',
  'CNY', 9900, 0, 0, 9900, 0, now() + interval '15 minutes', now(), now() + interval '1 day',
  '', now(), now()) RETURNING id AS order_id \gset
INSERT INTO order_lines (order_id, variant_id, product_id, title, title_zh, sku, attributes,
  unit_price, qty, line_total, returned_qty)
VALUES (:order_id, :v, :product, 'Bench item', '测试商品', 'B-1', '{"size": "1"}', 9900, 1, 9900,
  0);
INSERT INTO order_events (order_id, from_status, status, note, at)
VALUES (:order_id, NULL, 'placed', '', now());
INSERT INTO outbox (topic, payload, created_at, available_at, attempts, last_error)
VALUES ('order.placed', json_build_object('order_id', :order_id::bigint, 'status', 'placed',
  'store_id', :s::bigint, 'total', 9900, 'currency', 'CNY'), now(), now(), 0, '');
INSERT INTO stock_reservations (store_id, variant_id, qty, reference, status, expires_at,
  created_at)
VALUES (:s, :v, 1, 'order:' || :order_id::bigint, 'held', now() + interval '15 minutes', now());
"""
CONDITIONAL = (
    r"""
BEGIN;
UPDATE stock_levels SET reserved = reserved + 1, updated_at = now()
WHERE store_id = :s AND variant_id = :v AND on_hand - reserved >= 1;
"""
    + ORDER
    + "COMMIT;\n"
)
FOR_UPDATE = (
    r"""
BEGIN;
SELECT id AS level_id, on_hand - reserved AS avail FROM stock_levels
WHERE store_id = :s AND variant_id = :v FOR UPDATE \gset
\if :avail >= 1
UPDATE stock_levels SET reserved = reserved + 1, updated_at = now() WHERE id = :level_id;
"""
    + ORDER
    + "\\endif\nCOMMIT;\n"
)
SCRIPTS = {"conditional UPDATE": CONDITIONAL, "SELECT … FOR UPDATE": FOR_UPDATE}
SERVER = "the server's statements"

# Parameters of the server's statement that differ from one order to the next: pgbench
# variables (:s and :v from the row picker, :oid/:lid/:eid drawn by the script, :key random).
_VARYING = {
    "key.key": ":key",
    "stock.store_id": ":s",
    "stock.variant_id": ":v",
    "orders.id": ":oid",
    "orders.store_id": ":s",
    "order_lines.id": ":lid",
    "order_lines.order_id": ":oid",
    "order_lines.variant_id": ":v",
    "order_events.id": ":eid",
    "order_events.order_id": ":oid",
    "stock_reservations.store_id": ":s",
    "stock_reservations.variant_id": ":v",
}


def _constant(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def server_script(
    *, ids_sql: str, read_sql: str, place_sql: str, names: list[str], args: list[Any]
) -> tuple[str, dict[str, str]]:
    """pgbench's version of what the API server sends for one order on its fast path (see
    ``orders.placement_pg``): draw the ids, read the store and the item, and the one
    statement, with one real order's values (``args``) except those that differ per order.
    The token lookup is left out (a busy shopper's token is remembered by the server), so
    this ceiling is, if anything, higher than the server's SQL. Returns the script and its
    constants for ``-D``."""
    if len(names) != len(args):
        raise ValueError(f"{len(names)} parameter names for {len(args)} values")
    defines: dict[str, str] = {}

    def parameter(match: re.Match[str]) -> str:
        n = int(match.group(1))
        name, value = names[n - 1], args[n - 1]
        if name in _VARYING:
            return _VARYING[name]
        if value is None:
            return "NULL"
        if value == "":
            return "''"  # pgbench takes no empty -D value
        defines[f"p{n}"] = _constant(value)
        return f":p{n}"

    ids = re.findall(r"nextval\([^()]*\([^()]*\)\)", ids_sql)  # nextval(pg_get_serial…(…))
    draw = "SELECT " + ", ".join(
        f"{expr} AS {alias}" for expr, alias in zip(ids, ("oid", "lid", "eid"), strict=True)
    )
    read = read_sql.replace("$1", ":s").replace("$2::bigint[]", "ARRAY[:v]::bigint[]")
    place = re.sub(r"\$(\d+)", parameter, place_sql)
    script = f"\\set key random(1, 1000000000000000)\n{draw} \\gset\n{read};\n{place};\n"
    return script, defines


@dataclass(slots=True)
class PgbenchResult:
    name: str
    clients: int
    seconds: float
    transactions: int
    failed: int
    per_second: float
    latency_avg_ms: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def pgbench_path() -> str:
    """The pgbench binary, or a clear message of what to install."""
    found = shutil.which("pgbench")
    if found is None:
        raise RuntimeError(INSTALL_HINT)
    return found


def _conn_args(dsn: str) -> tuple[list[str], dict[str, str]]:
    parts = urlsplit(dsn)
    args = ["-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432)]
    if parts.username:
        args += ["-U", unquote(parts.username)]
    env = {"PGPASSWORD": unquote(parts.password)} if parts.password else {}
    return [*args, parts.path.lstrip("/")], env


def _number(pattern: str, text: str) -> float:
    match = re.search(pattern, text)
    return float(match.group(1)) if match else 0.0


def parse(name: str, clients: int, seconds: float, out: str) -> PgbenchResult:
    """The figures of pgbench's summary (``tps = … (without initial connection time)``)."""
    return PgbenchResult(
        name=name,
        clients=clients,
        seconds=seconds,
        transactions=int(_number(r"number of transactions actually processed: (\d+)", out)),
        failed=int(_number(r"number of failed transactions: (\d+)", out)),
        per_second=_number(r"tps = ([\d.]+) \(without initial connection time\)", out),
        latency_avg_ms=_number(r"latency average = ([\d.]+) ms", out),
    )


async def pgbench(
    dsn: str,
    *,
    name: str,
    script: str,
    variables: Mapping[str, int | float | str],
    clients: int,
    seconds: float,
    zipf: bool = False,
) -> PgbenchResult:
    """Run ``script`` (after the row picker) with ``-M prepared`` for ``seconds``."""
    binary = pgbench_path()
    conn, env = _conn_args(dsn)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "order.sql"
        path.write_text((PICK_ZIPF if zipf else PICK_HOT) + script)
        defines = [f"-D{k}={v}" for k, v in variables.items()]
        cmd = [binary, "-n", "-M", "prepared", "-c", str(clients), "-j", str(min(clients, 2)),
               "-T", str(max(1, round(seconds))), "-f", str(path), *defines, *conn]  # fmt: skip
        proc = await asyncio.create_subprocess_exec(
            *cmd,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, **env},
        )
        out, err = await proc.communicate()
    text = out.decode() + err.decode()
    if proc.returncode != 0:
        raise RuntimeError(f"pgbench failed ({proc.returncode}): {text[-800:]}")
    return parse(name, clients, seconds, text)
