"""The "Orders (O1, O2)" section of docs/benchmarks.md: command, machine, date, figures."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from o2o.bench.geo_report import HEADER, machine
from o2o.bench.orders import CONDITIONAL, FOR_UPDATE, Report, Sale, Series, http_name

START = "<!-- o2o bench orders: start -->"
END = "<!-- o2o bench orders: end -->"
O1_TARGET = 0.30
O2_TARGET = 0.40
P99_TARGET_MS = 50.0


def _ratio(report: Report, workload: str) -> tuple[Series | None, Series | None, float]:
    """HTTP (the first worker count) against the highest pgbench ceiling of the workload."""
    http = report.find(workload, http_name(report.options.workers[0]))
    ceilings = [s for s in report.series if s.workload == workload and s.pg]
    ceiling = max(ceilings, key=lambda s: s.per_second, default=None)
    if not http or not ceiling or not ceiling.per_second:
        return http, ceiling, 0.0
    return http, ceiling, http.per_second / ceiling.per_second


def targets(report: Report) -> list[tuple[str, bool]]:
    """Each target of BENCHMARKS.md O1/O2 with whether this run met it."""
    out: list[tuple[str, bool]] = []
    sales = len(report.small_sales) + (1 if report.big_sale else 0)
    if sales:
        out.append((f"O1: 0 oversold, 0 unsold while refused, 0 duplicate orders "
                    f"({report.violations} of {sales} sales broke an invariant)",
                    report.violations == 0))  # fmt: skip
    for workload, goal in (("O1", O1_TARGET), ("O2", O2_TARGET)):
        http, ceiling, ratio = _ratio(report, workload)
        if http and ceiling:
            out.append((f"{workload}: HTTP orders/s ≥ {goal:.0%} of the pgbench ceiling "
                        f"({http.per_second:,.0f} / {ceiling.per_second:,.0f} = {ratio:.2f}; "
                        f"ceiling: {ceiling.system})",
                        ratio >= goal))  # fmt: skip
    if report.at_80:
        r = report.at_80
        out.append((f"O2: p99 < {P99_TARGET_MS:g} ms at 80 % of saturation "
                    f"({r.offered_per_second:,.0f} orders/s offered: p99 {r.p99_ms:.1f} ms)",
                    r.p99_ms < P99_TARGET_MS and r.failed == 0))  # fmt: skip
    return out


def _kinds(errors: dict[str, int]) -> str:
    return " (" + ", ".join(f"{k}: {n}" for k, n in errors.items()) + ")" if errors else ""


def _client(name: str) -> str:
    return "wrk, one thread, a Lua script" if name == "wrk" else "asyncio + httpx"


def _sale_row(name: str, s: Sale) -> str:
    v = s.verdict
    rate = v.sold / s.sold_out_s if s.sold_out_s > 0 else 0.0
    return (f"| {name} | {v.buyers:,} | {v.units} | {v.sold} | {v.refused} | {v.requests:,} "
            f"| {s.sold_out_s:.2f} | {rate:,.0f} | {s.seconds:.2f} | {s.p50_ms:.0f} "
            f"| {s.p99_ms:.0f} | {len(v.violations)} |")  # fmt: skip


def _series_rows(report: Report, workload: str) -> list[str]:
    _http, ceiling, _ratio_value = _ratio(report, workload)
    rows = ["| system | reps | orders/s (median) | of ceiling | p50 ms | p99 ms | failed "
            "| server CPU ms/order | client CPU ms/order |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]  # fmt: skip
    for s in (s for s in report.series if s.workload == workload):
        share = (
            f"{s.per_second / ceiling.per_second:.2f}" if ceiling and ceiling.per_second else "–"
        )
        if s.http:
            failed = sum(r.failed for r in s.http)
            p50, p99 = s.median("p50_ms"), s.median("p99_ms")
            server, client = s.median("server_cpu_ms"), s.median("client_cpu_ms")
            rows.append(f"| {s.system} | {len(s.http)} | {s.per_second:,.0f} | {share} "
                        f"| {p50:.1f} | {p99:.1f} | {failed} | {server:.2f} "
                        f"| {client:.2f} ({s.http[0].client}) |")  # fmt: skip
        else:
            lat = sorted(r.latency_avg_ms for r in s.pg)[len(s.pg) // 2] if s.pg else 0.0
            failed = sum(r.failed for r in s.pg)
            rows.append(f"| pgbench, {s.system} | {len(s.pg)} | {s.per_second:,.0f} | {share} "
                        f"| avg {lat:.1f} | – | {failed} | – | – |")  # fmt: skip
    return rows


def markdown(report: Report, command: str, *, today: datetime | None = None,
             notes: list[str] | None = None) -> str:  # fmt: skip
    o = report.options
    date = (today or datetime.now(UTC)).strftime("%Y-%m-%d")
    lines = [
        START,
        "## Orders (O1, O2): flash sale and platform-wide orders through HTTP vs pgbench",
        "",
        f"- command: `{command}`",
        f"- machine: {machine()}",
        f"- date: {date}",
        f"- server: the real app under uvicorn ({', '.join(map(str, o.workers))} worker(s)), "
        "SQLAlchemy pool 10 + 10 overflow per worker, outbox relay not in the server; the load "
        f"generators ({_client(o.client)} for throughput, asyncio + httpx for the sales and the "
        "open loop), the server and PostgreSQL share the machine's cores; CPU per order is "
        "user + system time of the server's processes and of the load generator over a "
        "repetition, divided by its successful orders",
        f"- throughput: {o.clients} clients back to back, {o.reps} alternating repetitions of "
        f"{o.seconds:g} s per system, medians; pgbench `-M prepared -j 2 -c {o.clients}` runs "
        "the same transaction (conditional UPDATE of the level, INSERT order, line, event, "
        "outbox, reservation) between the HTTP repetitions",
        "",
        "### O1: flash sale correctness",
        "",
        "Each buyer wants 1 unit under its own Idempotency-Key; 45 % send once, 20 % resend "
        "after the answer, 15 % send twice at once, 20 % give up after 2–40 ms and retry; "
        "`409 idempotency_in_flight` is retried with the same key. Checked from the database "
        "after each sale: units taken ≤ units; any refusal ⇒ all units taken; orders = "
        "successful keys (same ids as answered); replays byte-identical; holds = reserved; "
        "ledger reconciles; every buyer a definitive answer, no 5xx.",
        "",
        "| sale | buyers | units | sold | refused | requests | sold out s | new orders/s "
        "| all answered s | p50 ms | p99 ms | violations |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    if report.big_sale:
        lines.append(_sale_row("big", report.big_sale))
    if report.small_sales:
        small = report.small_sales
        mid = sorted(small, key=lambda s: s.sold_out_s)[len(small) // 2]
        lines.append(_sale_row(f"median of {len(small)} randomized", mid))
    bad = [s for s in ([report.big_sale] if report.big_sale else []) + report.small_sales
           if s.verdict.violations]  # fmt: skip
    lines += ["", f"Sales with a violation: {len(bad)} of "
              f"{len(report.small_sales) + (1 if report.big_sale else 0)}."]  # fmt: skip
    for s in bad[:5]:
        lines.append(f"- seed {s.seed}: " + "; ".join(s.verdict.violations))
    lines += ["", f"### O1: one hot level, sustained ({o.clients} clients)", "",
              *_series_rows(report, "O1")]  # fmt: skip
    if report.find("O2", CONDITIONAL) or report.find("O2", FOR_UPDATE):
        lines += ["", f"### O2: {o.stores:,} stores × {o.products * o.sizes:,} variants, "
                  f"Zipf s={o.zipf} ({o.clients} clients)", "",
                  *_series_rows(report, "O2")]  # fmt: skip
    if report.at_80:
        r = report.at_80
        lines += ["", f"At 80 % of saturation (open loop, Poisson arrivals, {r.seconds:.0f} s): "
                  f"{r.offered_per_second:,.0f} orders/s offered, {r.per_second:,.0f} placed; "
                  f"p50 {r.p50_ms:.1f} ms, p95 {r.p95_ms:.1f} ms, p99 {r.p99_ms:.1f} ms "
                  f"(from each order's due time); {r.failed} failed{_kinds(r.errors)}; "
                  f"load generator "
                  f"{r.client} ({r.clients} connections), orders sent late by p99 "
                  f"{r.lag_p99_ms:.1f} ms."]  # fmt: skip
    lines += ["", "### Targets", ""]
    lines += [f"- {'met' if ok else '**missed**'}: {text}" for text, ok in targets(report)]
    if notes:
        lines += ["", *notes]
    lines.append(END)
    return "\n".join(lines) + "\n"


def write_section(doc: Path, section: str) -> None:
    """Replace the orders section of ``doc`` (or append it), keeping everything else."""
    text = doc.read_text() if doc.exists() else HEADER
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END) + r"\n?", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    doc.write_text(text)
