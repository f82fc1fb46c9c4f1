"""The closed-loop throughput phases through ``wrk``: a load generator in C, so that the
client takes little of the cores the server and PostgreSQL share with it.

A Lua script builds each request: the buyer's bearer token (round robin over the seeded
buyers), a fresh Idempotency-Key (a per-thread random prefix and a counter), and the level
(one hot level, or a store uniformly and a variant by bounded Zipf popularity, as
``orders_load.zipf_pick`` and pgbench draw them). Each answer's status is counted, so that
only 201s count as orders. The flash-sale correctness phases keep the Python buyers, whose
per-buyer checks need every answer.
"""

from __future__ import annotations

import asyncio
import json
import resource
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from o2o.bench.orders_buyers import API
from o2o.bench.orders_load import LoadResult

INSTALL = "wrk is not installed: `apt-get install -y wrk` (Debian/Ubuntu) or `brew install wrk`"
MARK = "O2O-RESULT "


@dataclass(frozen=True, slots=True)
class Targets:
    """Where the orders go: ``zipf`` None means the first store and variant only."""

    store_ids: list[int]
    variant_ids: list[int]
    zipf: float | None = None


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise RuntimeError(INSTALL)
    return path


def _lua_list(values: list[int] | list[str]) -> str:
    return "{" + ",".join(json.dumps(v) for v in values) + "}"


def script(targets: Targets, tokens: list[str]) -> str:
    """The Lua script for ``wrk -s``."""
    hot = targets.zipf is None
    stores = targets.store_ids[:1] if hot else targets.store_ids
    variants = targets.variant_ids[:1] if hot else targets.variant_ids
    return f"""
local stores = {_lua_list(stores)}
local variants = {_lua_list(variants)}
local tokens = {_lua_list(tokens)}
local s = {targets.zipf or 0}
local cdf, total = {{}}, 0
for rank = 1, #variants do total = total + 1 / rank ^ s; cdf[rank] = total end
local threads = {{}}
local counter, prefix = 0, ""
ok, codes = 0, {{}}  -- globals: done() reads them through thread:get

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(id * 7919 + os.time())
  prefix = string.format("%08x%08x", math.random(0, 0x7fffffff), math.random(0, 0x7fffffff))
end

local function variant()
  if #variants == 1 then return variants[1] end
  local u, lo, hi = math.random() * total, 1, #cdf
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cdf[mid] < u then lo = mid + 1 else hi = mid end
  end
  return variants[lo]
end

function request()
  counter = counter + 1
  local body = string.format(
    '{{"store_id":%d,"fulfilment":"pickup","lines":[{{"variant_id":%d,"qty":1}}]}}',
    stores[math.random(#stores)], variant())
  return wrk.format("POST", nil, {{
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[(counter + id * 7) % #tokens + 1],
    ["Idempotency-Key"] = prefix .. string.format("%010d", counter),
  }}, body)
end

function response(status, headers, body)
  if status == 201 then ok = ok + 1 else codes[status] = (codes[status] or 0) + 1 end
end

function done(summary, latency, requests)
  local all_ok, errors = 0, {{}}
  for _, t in ipairs(threads) do
    all_ok = all_ok + t:get("ok")
    for code, n in pairs(t:get("codes")) do
      errors[tostring(code)] = (errors[tostring(code)] or 0) + n
    end
  end
  local e = summary.errors
  local parts = {{}}
  for code, n in pairs(errors) do table.insert(parts, string.format('"%s":%d', code, n)) end
  for _, k in ipairs({{"connect", "read", "write", "timeout"}}) do
    if e[k] > 0 then table.insert(parts, string.format('"%s":%d', k, e[k])) end
  end
  io.write(string.format(
    '{MARK}{{"ok":%d,"us":%d,"p50":%d,"p95":%d,"p99":%d,"errors":{{%s}}}}\\n',
    all_ok, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), table.concat(parts, ",")))
end
"""


def parse(output: str, *, name: str, clients: int) -> LoadResult:
    """wrk's output: the line ``done`` writes."""
    line = next((ln for ln in output.splitlines() if ln.startswith(MARK)), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result:\n{output[-2000:]}")
    data = json.loads(line[len(MARK) :])
    seconds = data["us"] / 1e6
    errors = {str(k): int(v) for k, v in data["errors"].items()}
    ok = int(data["ok"])
    return LoadResult(name, clients, seconds, ok, sum(errors.values()),
                      ok / seconds if seconds else 0.0, data["p50"] / 1e3, data["p95"] / 1e3,
                      data["p99"] / 1e3, errors)  # fmt: skip


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


async def wrk_closed_loop(
    base_url: str, *, name: str, tokens: list[str], targets: Targets, clients: int,
    seconds: float, threads: int = 1,
) -> tuple[LoadResult, float]:  # fmt: skip
    """``clients`` connections ordering back to back for ``seconds``; the result and wrk's
    CPU seconds. One wrk thread drives a few hundred orders/s without being the limit."""
    with tempfile.TemporaryDirectory() as tmp:
        lua = Path(tmp) / "orders.lua"
        lua.write_text(script(targets, tokens))
        before = _children_cpu()
        proc = await asyncio.create_subprocess_exec(
            wrk_path(), f"-t{threads}", f"-c{clients}", f"-d{seconds:g}s", "--timeout", "30s",
            "-s", str(lua), base_url + API,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        out, _ = await proc.communicate()
        cpu = _children_cpu() - before
    if proc.returncode:
        raise RuntimeError(f"wrk exited with {proc.returncode}:\n{out.decode()[-2000:]}")
    return parse(out.decode(), name=name, clients=clients), cpu
