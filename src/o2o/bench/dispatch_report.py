"""The D1 section of docs/benchmarks.md and its plot (a hand-written SVG, no plotting library)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from o2o.bench.dispatch import InstanceResult
from o2o.bench.dispatch_metrics import Summary
from o2o.bench.dispatch_scale import ScaleResult
from o2o.bench.geo_report import HEADER, machine

START = "<!-- o2o bench dispatch: start -->"
END = "<!-- o2o bench dispatch: end -->"
DELIVERED, OF_ATTAINABLE, EXCESS_MEAN, EXCESS_P90, ROUND_P99_MS = 0.99, 0.98, 2.0, 6.0, 1000.0
COLOURS = {"ours": "#d62728", "ours (live)": "#9467bd", "greedy": "#7f7f7f",
           "matching": "#1f77b4"}  # fmt: skip


def checks(s: Summary) -> list[tuple[str, bool]]:
    """Each D1 target for one day with whether it was met."""
    return [
        (f"delivered {s.delivered / max(s.orders, 1):.1%} ≥ {DELIVERED:.0%}",
         s.delivered >= DELIVERED * s.orders),
        (f"on time / attainable {s.on_time_of_attainable:.4f} ≥ {OF_ATTAINABLE}",
         s.on_time_of_attainable >= OF_ATTAINABLE),
        (f"excess mean {s.excess_mean:.2f} ≤ {EXCESS_MEAN:g} min", s.excess_mean <= EXCESS_MEAN),
        (f"excess p90 {s.excess_p90:.1f} ≤ {EXCESS_P90:g} min", s.excess_p90 <= EXCESS_P90),
    ]  # fmt: skip


def targets(results: list[InstanceResult], scale: ScaleResult | None) -> list[tuple[str, bool]]:
    out = []
    for r in results:
        ours = r.summaries.get("ours")
        if ours and r.full_size:
            bad = [text for text, ok in checks(ours) if not ok]
            out.append((f"{r.instance.name}: " + ("; ".join(bad) if bad else "all four met"),
                        not bad))  # fmt: skip
    if scale:
        out.append((f"round p99 {scale.p99_ms:.0f} ms ≤ {ROUND_P99_MS:g} ms at "
                    f"{scale.orders:,} open orders × {scale.couriers} couriers",
                    scale.p99_ms <= ROUND_P99_MS))  # fmt: skip
    return out


def row(s: Summary) -> str:
    sizes = "/".join(str(s.bundle_sizes.get(str(k), 0)) for k in (1, 2, 3))
    return (f"| {s.instance} | {s.policy} | {s.orders} | {s.delivered} "
            f"| {s.click_to_door_mean:.1f} / {s.click_to_door_p50:.0f} / "
            f"{s.click_to_door_p90:.0f} / {s.click_to_door_max:.0f} "
            f"| {s.on_time_share:.1%} | {s.attainable_share:.1%} | {s.on_time_of_attainable:.3f} "
            f"| {s.excess_mean:.2f} / {s.excess_p90:.0f} | {s.ready_to_pickup_mean:.1f} "
            f"| {s.orders_per_courier_hour:.2f} | {s.utilization:.0%} | {sizes} "
            f"| {s.round_p50_ms:.1f} / {s.round_p99_ms:.1f} / {s.round_max_ms:.1f} |")  # fmt: skip


TABLE_HEAD = [
    "| day | policy | orders | delivered | click-to-door mean / p50 / p90 / max | on time "
    "| attainable | on time / attainable | excess mean / p90 | food waiting | orders per "
    "courier-hour | utilization | bundles 1/2/3 | round ms p50 / p99 / max |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
    "| ---: |",
]


def markdown(results: list[InstanceResult], scale: ScaleResult | None, command: str, *,
             plot: str | None = None, today: datetime | None = None) -> str:  # fmt: skip
    date = (today or datetime.now(UTC)).strftime("%Y-%m-%d")
    lines = [
        START,
        "## Dispatch (D1): MDRP days through our dispatch and the baselines",
        "",
        f"- command: `{command}`",
        f"- machine: {machine()}",
        f"- date: {date}",
        "- rules: the MDRP specification (pickup ≥ max(ready, arrival + half the pickup "
        "service); drop-off = arrival + half the drop-off service; no pickup after a courier's "
        "off-time; bundles of one restaurant; no new instruction while executing one); a "
        "dispatch round every simulated minute; travel ceil(distance / speed) minutes",
        "- ours: `delivery.dispatch` (bundles of up to 3, optimal matching, late commitment); "
        "greedy: nearest idle courier, first come first served; matching: optimal matching of "
        "orders to idle couriers on the hand-over time; neither baseline bundles or waits",
        "- minutes; excess = click-to-door − the order's own lower bound ((ready − placement) + "
        "half the pickup service + direct travel + half the drop-off service); on time = within "
        "the day's target (40 min); attainable = bound within the target; food waiting = "
        "pickup − ready; round = compute time of one dispatch call",
        "",
        *TABLE_HEAD,
    ]
    lines += [row(s) for r in results for s in r.summaries.values()]
    if scale:
        lines += ["", f"Scale: {scale.rounds} rounds on generated cities of {scale.orders:,} open "
                  f"orders × {scale.couriers} couriers (half idle): round p50 "
                  f"{scale.p50_ms:.0f} ms, p99 {scale.p99_ms:.0f} ms, max {scale.max_ms:.0f} ms; "
                  f"{scale.assigned_mean:.0f} orders sent per round on average."]  # fmt: skip
    if plot:
        lines += ["", f"![Click-to-door distribution per policy, full-size days]({plot})"]
    lines += ["", "### Targets (ours, full-size days)", ""]
    lines += [f"- {'met' if ok else '**missed**'}: {text}" for text, ok in targets(results, scale)]
    lines.append(END)
    return "\n".join(lines) + "\n"


def write_section(doc: Path, section: str) -> None:
    """Replace the dispatch section of ``doc`` (or append it), keeping everything else."""
    text = doc.read_text() if doc.exists() else HEADER
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END) + r"\n?", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    doc.write_text(text)


def svg(results: list[InstanceResult], *, limit: float = 120.0, target: float = 40.0) -> str:
    """Cumulative share of orders delivered within x minutes, per policy, over the full-size
    days (all days if none is full-size); undelivered orders keep the curve below 100 %."""
    chosen = [r for r in results if r.full_size] or results
    width, height, left, bottom, top, right = 640, 360, 50, 40, 20, 150
    pw, ph = width - left - right, height - top - bottom

    def x(v: float) -> float:
        return left + pw * min(v, limit) / limit

    def y(share: float) -> float:
        return top + ph * (1 - share)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="sans-serif" font-size="11">',
             f'<rect width="{width}" height="{height}" fill="white"/>']  # fmt: skip
    for tick in range(0, int(limit) + 1, 20):
        parts.append(f'<line x1="{x(tick):.1f}" y1="{y(0):.1f}" x2="{x(tick):.1f}" '
                     f'y2="{y(1):.1f}" stroke="#eee"/><text x="{x(tick):.1f}" '
                     f'y="{y(0) + 15:.1f}" text-anchor="middle">{tick}</text>')  # fmt: skip
    for share in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<line x1="{x(0):.1f}" y1="{y(share):.1f}" x2="{x(limit):.1f}" '
                     f'y2="{y(share):.1f}" stroke="#eee"/><text x="{left - 5}" '
                     f'y="{y(share) + 4:.1f}" text-anchor="end">{share:.0%}</text>')  # fmt: skip
    parts.append(f'<line x1="{x(target):.1f}" y1="{y(0):.1f}" x2="{x(target):.1f}" '
                 f'y2="{y(1):.1f}" stroke="#333" stroke-dasharray="4 3"/>')  # fmt: skip
    names = list(dict.fromkeys(n for r in chosen for n in r.summaries))
    for i, name in enumerate(names):
        values = sorted(v for r in chosen if name in r.summaries
                        for v in r.summaries[name].click_to_door)  # fmt: skip
        total = sum(r.summaries[name].orders for r in chosen if name in r.summaries)
        points = [f"{x(0):.1f},{y(0):.1f}"]
        for k, v in enumerate(values, start=1):
            if k == len(values) or values[k] != v:
                points.append(f"{x(v):.1f},{y(k / max(total, 1)):.1f}")
        colour = COLOURS.get(name, "#2ca02c")
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" '
                     f'points="{" ".join(points)}"/>')  # fmt: skip
        ly = top + 20 + 18 * i
        parts.append(f'<line x1="{width - right + 15}" y1="{ly}" x2="{width - right + 35}" '
                     f'y2="{ly}" stroke="{colour}" stroke-width="2"/><text '
                     f'x="{width - right + 40}" y="{ly + 4}">{name}</text>')  # fmt: skip
    parts.append(f'<text x="{left + pw / 2:.1f}" y="{height - 5}" text-anchor="middle">'
                 "click-to-door, minutes (dashed: target)</text>")  # fmt: skip
    middle = top + ph / 2
    parts.append(f'<text x="12" y="{middle:.1f}" transform="rotate(-90 12 {middle:.1f})" '
                 'text-anchor="middle">share of orders delivered</text>')  # fmt: skip
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
