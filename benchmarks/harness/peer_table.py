"""lsp_bench.py's headline: the issue's table of every server, Aurora/peer ratios, targets and a plot.

Pure functions of lsp_bench's per-server summaries (one dict of figures per server) and
the `ast` floor (floor.py) measured in the same run: a Markdown table for
docs/performance.md, the ratios, issue 18's targets judged against ty, and the PNG.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.plots import ensure_matplotlib
from harness.stats import is_number

MIB = 1024 * 1024

# (label, wall key, CPU key or None, unit): what the headline shows for every server
HEADLINE: list[tuple[str, str, str | None, str]] = [
    ("complete workspace/symbol, cold, from process start", "cold_complete_from_start_seconds",
     "cold_complete_tree_cpu_seconds", "s"),
    ("the same after a restart (warm caches)", "restart_complete_from_start_seconds",
     "restart_complete_tree_cpu_seconds", "s"),
    ("process start → `initialize` result", "cold_start_to_initialize_result_seconds",
     "cold_initialize_result_tree_cpu_seconds", "s"),
    ("warm workspace/symbol p50", "warm_symbol_p50_ms", None, "ms"),
    ("warm workspace/symbol p95", "warm_symbol_p95_ms", "warm_symbol_cpu_ms_per_request", "ms"),
    ("first documentSymbol", "document_symbol_first_ms", "document_symbol_first_cpu_ms", "ms"),
    ("peak RSS of the process tree", "peak_tree_rss_bytes", None, "MiB"),
]  # fmt: skip
COMPLETE_KEYS = ("cold_complete_from_start_seconds", "restart_complete_from_start_seconds")


def ratio(mine: Any, theirs: Any) -> float | None:
    """mine / theirs where both are numbers and theirs is not 0."""
    return mine / theirs if is_number(mine) and is_number(theirs) and theirs else None


def _number(value: float, unit: str) -> str:
    if unit == "MiB":
        return f"{value / MIB:,.0f} MiB"
    if unit == "ms":
        return f"{value:,.1f} ms"
    return f"{value:,.2f} s" if value >= 0.1 else f"{value:,.3f} s"


def cell(summary: dict[str, Any], wall_key: str, cpu_key: str | None, unit: str) -> str:
    """A figure with its CPU-seconds (or CPU per request) in parentheses; why it is missing otherwise."""
    value = summary.get(wall_key)
    if value is None:
        if not summary.get("workspace_symbol_supported", True) and ("complete" in wall_key or "symbol_p" in wall_key):
            return "not supported"
        if wall_key in COMPLETE_KEYS and summary.get("complete_timeout_seconds"):
            return f"did not complete in {summary['complete_timeout_seconds']:.0f} s"
        return "—"
    text = _number(value, unit)
    cpu = summary.get(cpu_key) if cpu_key else None
    if is_number(cpu):
        text += f" (CPU {_number(cpu, unit)}{'/request' if 'per_request' in (cpu_key or '') else ''})"
    return text


def markdown(summaries: dict[str, dict[str, Any]], titles: dict[str, str], floor: dict[str, Any]) -> list[str]:
    """The headline table, then Aurora/peer for every figure (wall, and CPU where measured)."""
    names = list(summaries)
    lines = ["| | " + " | ".join(titles[n] for n in names) + " |", "|---" * (len(names) + 1) + "|"]
    for label, wall_key, cpu_key, unit in HEADLINE:
        lines.append(f"| {label} | " + " | ".join(cell(summaries[n], wall_key, cpu_key, unit) for n in names) + " |")
    blank = " | ".join("" for _ in names[1:])
    lines.append(
        f"| floor: `ast.parse` of all {floor['files']} files, one process | "
        f"{floor['wall_seconds']:.2f} s (CPU {floor['cpu_seconds']:.2f} s) | {blank} |"
    )
    if "aurora" not in summaries:
        return lines
    peers = [n for n in names if n != "aurora"]
    lines += ["", "| Aurora / peer | " + " | ".join(titles[p] for p in peers) + " | Aurora / ast floor |",
              "|---" * (len(peers) + 2) + "|"]  # fmt: skip
    mine = summaries["aurora"]
    for label, wall_key, cpu_key, _ in HEADLINE:
        keys = [wall_key] + ([cpu_key] if cpu_key else [])
        row = []
        for peer in peers:
            parts = [ratio(mine.get(k), summaries[peer].get(k)) for k in keys]
            row.append(" / ".join("—" if r is None else f"{r:.3g}" for r in parts))
        floor_cell = ""
        if wall_key == "cold_complete_from_start_seconds":
            walls = ratio(mine.get(wall_key), floor["wall_seconds"])
            cpus = ratio(mine.get(cpu_key or ""), floor["cpu_seconds"])
            floor_cell = " / ".join("—" if r is None else f"{r:.1f}" for r in (walls, cpus))
        lines.append(f"| {label}{' (wall / CPU)' if cpu_key else ''} | " + " | ".join(row) + f" | {floor_cell} |")
    return lines


def ratios(summaries: dict[str, dict[str, Any]], floor: dict[str, Any]) -> dict[str, Any]:
    """Aurora/peer and Aurora/floor for the headline figures, as numbers for the JSON."""
    if "aurora" not in summaries:
        return {}
    mine = summaries["aurora"]
    keys = [k for _, wall, cpu, _ in HEADLINE for k in (wall, cpu) if k]
    peers = [peer for peer in summaries if peer != "aurora"]
    out: dict[str, Any] = {peer: {k: ratio(mine.get(k), summaries[peer].get(k)) for k in keys} for peer in peers}
    out["ast_floor"] = {
        "cold_complete_wall": ratio(mine.get("cold_complete_from_start_seconds"), floor["wall_seconds"]),
        "cold_complete_cpu": ratio(mine.get("cold_complete_tree_cpu_seconds"), floor["cpu_seconds"]),
    }
    return out


def issue_targets(summaries: dict[str, dict[str, Any]], reference: str = "ty") -> dict[str, Any]:
    """Issue 18's targets for Aurora, the ratios to `reference` (ty) from the same run."""
    mine, theirs = summaries.get("aurora"), summaries.get(reference)
    if mine is None:
        return {}

    def within(value: Any, limit: float | None) -> bool | None:
        return None if value is None or limit is None else value <= limit

    def times(key: str, factor: float) -> float | None:
        return factor * theirs[key] if theirs is not None and is_number(theirs.get(key)) else None

    cold = mine.get("cold_complete_from_start_seconds")
    return {
        "cold_complete_le_4x_ty": within(cold, times("cold_complete_from_start_seconds", 4.0)),
        "cold_complete_le_1_5_s": within(cold, 1.5),
        "restart_complete_le_0_5_s": within(mine.get("restart_complete_from_start_seconds"), 0.5),
        "warm_symbol_p95_le_2x_ty": within(mine.get("warm_symbol_p95_ms"), times("warm_symbol_p95_ms", 2.0)),
        "peak_tree_rss_le_1x_ty": within(mine.get("peak_tree_rss_bytes"), times("peak_tree_rss_bytes", 1.0)),
    }


# (title, key, scale, unit) of the plot's panels
PANELS = [
    ("complete workspace/symbol, cold", "cold_complete_from_start_seconds", "cold_complete_tree_cpu_seconds", "s"),
    ("the same after a restart", "restart_complete_from_start_seconds", "restart_complete_tree_cpu_seconds", "s"),
    ("warm workspace/symbol p95", "warm_symbol_p95_ms", None, "ms"),
    ("first documentSymbol", "document_symbol_first_ms", "document_symbol_first_cpu_ms", "ms"),
    ("peak RSS of the process tree", "peak_tree_rss_bytes", None, "MiB"),
]


def plot(summaries: dict[str, dict[str, Any]], titles: dict[str, str], floor: dict[str, Any], caption: str,
         output: Path) -> bool:  # fmt: skip
    """Horizontal bars per figure (wall dark, CPU light) with their values, the `ast` floor as a line; False
    without matplotlib."""
    if not ensure_matplotlib():
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(summaries)
    figure, axes = plt.subplots(len(PANELS), 1, figsize=(9, 1.0 + 0.55 * len(PANELS) * (len(names) + 1)))
    for axis, (title, key, cpu_key, unit) in zip(axes, PANELS, strict=True):
        scale = MIB if unit == "MiB" else 1.0
        rows = range(len(names))
        walls = [(summaries[n].get(key) or 0) / scale for n in names]
        cpus = [(summaries[n].get(cpu_key) or 0) / scale if cpu_key else 0.0 for n in names]
        axis.barh([r - 0.2 for r in rows], walls, height=0.4, color="#1f4e79", label="wall")
        if cpu_key:
            axis.barh([r + 0.2 for r in rows], cpus, height=0.4, color="#9dc3e6", label="CPU (whole tree)")
        for r, name in enumerate(names):
            shown = cell(summaries[name], key, cpu_key, unit)
            axis.text(walls[r], r, "  " + shown, va="center", fontsize=7)
        if key == "cold_complete_from_start_seconds":
            axis.axvline(floor["wall_seconds"], color="#c00000", linestyle="--", linewidth=1,
                         label=f"ast.parse floor {floor['wall_seconds']:.2f} s")  # fmt: skip
        axis.set_xlim(0, max([*walls, *cpus, 1e-9]) * 1.9)
        axis.set_yticks(list(rows), [titles[n] for n in names], fontsize=8)
        axis.invert_yaxis()
        axis.set_title(f"{title}, {unit}", fontsize=9)
        axis.tick_params(axis="x", labelsize=8)
        if cpu_key:
            axis.legend(fontsize=7, loc="lower right")
    figure.suptitle(caption, fontsize=9)
    figure.tight_layout(rect=(0, 0, 1, 0.98))
    output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(output, dpi=110)
    plt.close(figure)
    return True
