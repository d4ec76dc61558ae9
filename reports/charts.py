"""Charts drawn with matplotlib (Agg, no display) and embedded as base64 SVG data URIs.

Each function takes already-shaped rows and returns a Chart: title, alt text written from the
data (so a screen reader hears the finding, not just "a chart"), and the image. Colours come
from the Okabe-Ito palette, which stays distinct for the common forms of colour blindness, and
every series also differs by marker and line style, so the charts read in greyscale print too.
The 2x-4x targets are gains over the old way (the reference loop), so their band is drawn only
on an axis of gain over the old way, never on one of speedup over the library's own
sequential path: that path can be slower or faster than the old way, and a cell inside a band
drawn there could miss the target its verdict judges. Scaling charts (own sequential, by
design) draw ideal scaling instead, which stops at the machine's usable cores (the ceiling,
drawn as its own line); efficiency is speedup / min(threads, usable cores). Memory charts
take one memory source at a time (memray heap or OS peak RSS) and name it on the axis: two
sources never share an axis, nor do two baselines.
"""

from __future__ import annotations

import base64
import io
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from bench.schema import MEMORY_BUDGET_BYTES, MEMORY_SOURCE_LABELS  # noqa: E402
from reports.shaping import MIB, curve_for, series_label  # noqa: E402
from reports.verdicts import TARGETS, Verdict, with_gain  # noqa: E402

logger = logging.getLogger(__name__)

OKABE_ITO = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
LINESTYLES = ("-", "--", "-.", ":")
BAND_COLOUR = "#009E73"
#: the least top of a scaling chart's speedup axis (before its margin), so that a flat curve
#: does not fill the panel and two machines' charts read alike
MIN_SCALING_TOP = 4.0
STYLE = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "svg.fonttype": "none",
    "font.family": ["DejaVu Sans", "sans-serif"],
}


@dataclass(frozen=True)
class Chart:
    """One embedded chart."""

    title: str
    alt: str
    data_uri: str
    kind: str


@dataclass(frozen=True)
class SeriesStyle:
    colour: str
    marker: str
    linestyle: str


def style_for(index: int) -> SeriesStyle:
    """Colour, marker and line style for the n-th series; all three vary together."""
    return SeriesStyle(
        OKABE_ITO[index % len(OKABE_ITO)],
        MARKERS[index % len(MARKERS)],
        LINESTYLES[index % len(LINESTYLES)],
    )


def _to_chart(fig: Figure, title: str, alt: str, kind: str) -> Chart:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return Chart(title, alt, f"data:image/svg+xml;base64,{encoded}", kind)


def _new_figure(panels: int, width_per_panel: float = 3.6, height: float = 3.2) -> Figure:
    cols = min(panels, 3)
    rows = math.ceil(panels / cols)
    fig = Figure(figsize=(max(width_per_panel * cols, 4.8), height * rows), layout="constrained")
    return fig


def _grid(fig: Figure, panels: int) -> list:
    cols = min(panels, 3)
    rows = math.ceil(panels / cols)
    axes = fig.subplots(rows, cols, squeeze=False).ravel().tolist()
    for extra in axes[panels:]:
        extra.set_visible(False)
    return axes[:panels]


def _target_band(ax, horizontal: bool = True) -> None:
    """Shade the 2x-4x targets: only on an axis of gain over the old way (module docstring)."""
    low, high = TARGETS
    if horizontal:
        ax.axhspan(low, high, color=BAND_COLOUR, alpha=0.12, label="2x-4x target", zorder=0)
    else:
        ax.axvspan(low, high, color=BAND_COLOUR, alpha=0.12, label="2x-4x target", zorder=0)


def _thread_axis(ax, threads: Sequence[float]) -> None:
    ticks = sorted({int(t) for t in threads if t == t and t > 0})
    if not ticks:
        return
    ax.set_xscale("log", base=2)
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.minorticks_off()
    ax.set_xlim(ticks[0] / 1.3, ticks[-1] * 1.3)


def _fmt_x(value: float) -> str:
    return "n/a" if value != value else f"{value:.2f}x"


def _with_style(fig_fn):
    def wrapped(*args, **kwargs):
        with matplotlib.rc_context(STYLE):
            return fig_fn(*args, **kwargs)

    wrapped.__name__ = fig_fn.__name__
    wrapped.__doc__ = fig_fn.__doc__
    return wrapped


@_with_style
def scaling_chart(
    label: str,
    operation: str,
    rows: pd.DataFrame,
    verdicts: list[Verdict],
    cores: int | None = None,
) -> Chart | None:
    """Speedup over own sequential against threads, one panel per workload, one line per
    format, with ideal scaling and the usable cores' ceiling (no target band: the targets
    are gains over the old way, not over own sequential)."""
    workloads = list(dict.fromkeys(v.workload for v in verdicts))
    formats = list(dict.fromkeys(v.format for v in verdicts))
    curves = [(v, curve_for(rows, v)) for v in verdicts if v.speedup == v.speedup]
    curves = [(v, c) for v, c in curves if not c.empty]
    if not curves:
        return None
    fig = _new_figure(len(workloads))
    axes = dict(zip(workloads, _grid(fig, len(workloads))))
    all_threads = [t for _, c in curves for t in c["threads"]]
    top = max(max(c["speedup_ci_high"].max(), c["speedup"].max()) for _, c in curves)
    top = max(top if top == top else 0, MIN_SCALING_TOP) * 1.12
    for workload, ax in axes.items():
        ideal = sorted({t for t in all_threads if t > 0})
        if ideal:
            capped = [min(t, cores) if cores else t for t in ideal]
            ax.plot(
                ideal, capped, color="#555555", linestyle=":", linewidth=1, label="ideal scaling"
            )
        if cores:
            ax.axhline(
                cores,
                color="#D55E00",
                linestyle="--",
                linewidth=1,
                label=f"ceiling: {cores} usable core{'s' if cores != 1 else ''}",
            )
        for verdict, curve in curves:
            if verdict.workload != workload:
                continue
            style = style_for(formats.index(verdict.format))
            low = (curve["speedup"] - curve["speedup_ci_low"]).clip(lower=0).fillna(0)
            high = (curve["speedup_ci_high"] - curve["speedup"]).clip(lower=0).fillna(0)
            config = f"batch {_int(verdict.batch_size)}, {verdict.backend or 'n/a'}"
            ax.errorbar(
                curve["threads"],
                curve["speedup"],
                yerr=[low, high],
                color=style.colour,
                marker=style.marker,
                linestyle=style.linestyle,
                capsize=3,
                linewidth=1.5,
                markersize=5,
                label=f"{series_label(verdict.format)} ({config})",
            )
        _thread_axis(ax, all_threads)
        ax.set_ylim(0, top)
        ax.set_title(f"workload: {workload}")
        ax.set_xlabel("threads (thread_pool_size)")
        ax.set_ylabel("speedup vs own sequential (x)")
        ax.legend(loc="upper left")
    title = f"{label}: {operation} speedup against threads"
    fig.suptitle(title, fontweight="bold")
    best = max(curves, key=lambda vc: vc[0].speedup)[0]
    alt = (
        f"Line chart of {operation} speedup against thread count on {label}, one panel per "
        f"workload ({', '.join(workloads)}), one line per format, with 95% interval bars, "
        f"ideal scaling dotted up to the ceiling of {cores or 'unknown'} usable cores. "
        f"Speedup here is over the library's own sequential path; the 2x-4x targets are "
        f"gains over the old way, judged in the verdicts. Highest: "
        f"{series_label(best.format, best.workload)} at {_fmt_x(best.speedup)} vs own "
        f"sequential with {_int(best.threads)} threads."
    )
    return _to_chart(fig, title, alt, "scaling")


def _int(value: float) -> str:
    return "n/a" if value is None or value != value else str(int(value))


@_with_style
def heatmap_chart(label: str, operation: str, fmt: str, rows: pd.DataFrame) -> Chart | None:
    """Speedup over threads x batch size, one panel per workload (best backend per cell)."""
    group = rows[(rows["operation"] == operation) & (rows["format"] == fmt)].dropna(
        subset=["threads", "batch_size", "speedup"]
    )
    if group.empty or group["threads"].nunique() < 2 or group["batch_size"].nunique() < 2:
        return None
    workloads = list(dict.fromkeys(group["workload"]))
    fig = _new_figure(len(workloads), width_per_panel=3.4, height=2.9)
    axes = _grid(fig, len(workloads))
    vmax = max(group["speedup"].max(), TARGETS[1])
    image = None
    best_text = []
    for workload, ax in zip(workloads, axes):
        grid = group[group["workload"] == workload].pivot_table(
            index="threads", columns="batch_size", values="speedup", aggfunc="max"
        )
        image = ax.imshow(
            grid.to_numpy(), cmap="cividis", vmin=0, vmax=vmax, origin="lower", aspect="auto"
        )
        for (i, j), value in np.ndenumerate(grid.to_numpy()):
            if value == value:
                ink = "black" if value > vmax * 0.55 else "white"
                ax.text(j, i, f"{value:.1f}", ha="center", va="center", color=ink, fontsize=8)
        ax.set_xticks(range(grid.shape[1]), [_int(b) for b in grid.columns])
        ax.set_yticks(range(grid.shape[0]), [_int(t) for t in grid.index])
        ax.set_xlabel("batch size (parallel_batch_size, files)")
        ax.set_ylabel("threads")
        ax.set_title(f"workload: {workload}")
        ax.grid(False)
        top = grid.stack().idxmax()
        best_text.append(
            f"{workload}: best {grid.stack().max():.2f}x at {_int(top[0])} threads, "
            f"batch {_int(top[1])}"
        )
    fig.colorbar(image, ax=axes, label="speedup vs sequential (x)", shrink=0.9)
    what = f"{operation} {fmt}" if fmt else operation
    title = f"{label}: {what} speedup over threads x batch size"
    fig.suptitle(title, fontweight="bold")
    alt = (
        f"Heatmap of {what} speedup on {label}, threads on the "
        f"vertical axis, batch size on the horizontal, values printed in each cell. "
        + "; ".join(best_text)
        + "."
    )
    return _to_chart(fig, title, alt, "heatmap")


@_with_style
def memory_chart(
    label: str, rows: pd.DataFrame, verdicts: list[Verdict], source: str = "memray"
) -> Chart | None:
    """Memory delta (MiB over sequential) of one memory source against threads, one panel per
    operation, with the budget line."""
    rows = rows[rows["memory_source"] == source]
    what = MEMORY_SOURCE_LABELS.get(source, source)
    curves = [(v, curve_for(rows, v)) for v in verdicts if v.speedup == v.speedup]
    curves = [(v, c.dropna(subset=["memory_delta_bytes"])) for v, c in curves]
    curves = [(v, c) for v, c in curves if not c.empty]
    if not curves:
        return None
    operations = list(dict.fromkeys(v.operation for v, _ in curves))
    series = list(dict.fromkeys(series_label(v.format, v.workload) for v, _ in curves))
    fig = _new_figure(len(operations))
    axes = dict(zip(operations, _grid(fig, len(operations))))
    all_threads = [t for _, c in curves for t in c["threads"]]
    for verdict, curve in curves:
        name = series_label(verdict.format, verdict.workload)
        style = style_for(series.index(name))
        axes[verdict.operation].plot(
            curve["threads"],
            curve["memory_delta_bytes"] / MIB,
            color=style.colour,
            marker=style.marker,
            linestyle=style.linestyle,
            label=name,
            markersize=5,
        )
    for operation, ax in axes.items():
        ax.axhline(0, color="#555555", linewidth=0.8)
        ax.axhline(
            MEMORY_BUDGET_BYTES / MIB,
            color="#D55E00",
            linestyle="--",
            linewidth=1,
            label=f"budget {MEMORY_BUDGET_BYTES / MIB:.0f} MiB",
        )
        _thread_axis(ax, all_threads)
        ax.set_title(f"operation: {operation}")
        ax.set_xlabel("threads (thread_pool_size)")
        ax.set_ylabel(f"{what} over sequential (MiB)")
        ax.legend(loc="upper left")
    title = f"{label}: extra memory ({what}) against threads"
    fig.suptitle(title, fontweight="bold")
    worst = max(curves, key=lambda vc: vc[1]["memory_delta_bytes"].max())
    alt = (
        f"Line chart of {what} above the sequential run, in MiB, against thread count on "
        f"{label}, one panel per operation, budget line dashed. Largest: "
        f"{worst[1]['memory_delta_bytes'].max() / MIB:.1f} MiB for {worst[0].operation} "
        f"{series_label(worst[0].format, worst[0].workload)}."
    )
    return _to_chart(fig, title, alt, "memory")


@dataclass(frozen=True)
class SpeedAxis:
    """What the speed-against-memory chart plots upwards: the cells' column and its name."""

    column: str
    label: str
    #: a gain over the old way, the axis the 2x-4x targets are on
    vs_old_way: bool


GAIN_AXIS = SpeedAxis("_gain", "gain vs the old way (x)", True)
OWN_SEQUENTIAL_AXIS = SpeedAxis(
    "speedup", "speedup vs own sequential (x), no old way measured", False
)


def speed_axis(cells: pd.DataFrame) -> tuple[pd.DataFrame, SpeedAxis]:
    """The cells to plot and their speed axis. The gain over the old way, as the verdicts take
    it (``verdicts.with_gain``), of the cells that measured the old way; only when none did,
    every cell's speedup over own sequential, so labelled. One axis never mixes the two."""
    gained = with_gain(cells)
    on_old_way = gained[gained["_baseline"] == "reference"]
    if on_old_way.empty:
        return gained, OWN_SEQUENTIAL_AXIS
    return on_old_way, GAIN_AXIS


def _front(memory: pd.Series, speed: pd.Series) -> tuple[list[float], list[float]]:
    """The Pareto front: each cell faster than every cell that costs no more memory."""
    ordered = sorted(zip(memory, speed), key=lambda point: (point[0], -point[1]))
    front_x, front_y, best = [], [], -math.inf
    for x, y in ordered:
        if y > best:
            front_x.append(x)
            front_y.append(y)
            best = y
    return front_x, front_y


def _cell_name(row: pd.Series) -> str:
    return (
        f"{row['operation']} {series_label(row['format'], row['workload'])}, "
        f"{_int(row['threads'])} threads"
    )


def tradeoff_finding(cells: pd.DataFrame, axis: SpeedAxis) -> str:
    """The chart's finding, on its own axis: the cheapest cell at 2x or more over the old
    way; with no old way measured, the fastest cell, which then judges no target."""
    speed = cells[axis.column]
    if not axis.vs_old_way:
        row = cells.loc[speed.idxmax()]
        return (
            f"No cell measured the old way, so none is set against the 2x-4x targets here; "
            f"the fastest, {_fmt_x(row['speedup'])} vs own sequential, costs "
            f"{row['memory_delta_bytes'] / MIB:.1f} MiB ({_cell_name(row)})."
        )
    cheapest = cells[speed >= TARGETS[0]]
    if cheapest.empty:
        return f"No cell reaches 2x over the old way (the fastest: {_fmt_x(speed.max())})."
    row = cheapest.loc[cheapest["memory_delta_bytes"].idxmin()]
    return (
        f"The cheapest cell at 2x or more over the old way ({_fmt_x(row[axis.column])}) costs "
        f"{row['memory_delta_bytes'] / MIB:.1f} MiB ({_cell_name(row)})."
    )


@_with_style
def tradeoff_chart(label: str, rows: pd.DataFrame, source: str = "memray") -> Chart | None:
    """Every valid parallel cell of one memory source: gain over the old way (or, where no
    cell measured it, speedup over own sequential: ``speed_axis``) against extra memory,
    with the Pareto front; the 2x-4x band only on the gain's axis."""
    measured = rows[rows["memory_source"] == source].dropna(
        subset=["speedup", "memory_delta_bytes"]
    )
    what = MEMORY_SOURCE_LABELS.get(source, source)
    if measured.empty:
        return None
    cells, axis = speed_axis(measured)
    fig = Figure(figsize=(6.4, 4.0), layout="constrained")
    ax = fig.subplots()
    if axis.vs_old_way:
        _target_band(ax)
    operations = list(dict.fromkeys(cells["operation"]))
    for index, operation in enumerate(operations):
        style = style_for(index)
        part = cells[cells["operation"] == operation]
        ax.scatter(
            part["memory_delta_bytes"] / MIB,
            part[axis.column],
            color=style.colour,
            marker=style.marker,
            s=22,
            alpha=0.8,
            label=operation,
        )
    front_x, front_y = _front(cells["memory_delta_bytes"] / MIB, cells[axis.column])
    speed_name = "gain" if axis.vs_old_way else "speedup"
    ax.step(
        front_x,
        front_y,
        where="post",
        color="#000000",
        linewidth=1,
        linestyle="--",
        label=f"best {speed_name} for the memory",
    )
    ax.set_xlabel(f"{what} over sequential (MiB)")
    ax.set_ylabel(axis.label)
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    title = f"{label}: speed against memory ({what}), every valid parallel cell"
    ax.set_title(title, fontweight="bold")
    left_out = len(measured) - len(cells)
    alt = (
        f"Scatter chart of {axis.label.removesuffix(' (x)')} against extra {what} in MiB for "
        f"{len(cells)} cells on {label}, one marker per operation, "
        + ("the 2x-4x target band shaded, " if axis.vs_old_way else "no target band, ")
        + f"with the dashed front of the best {speed_name} for each memory cost. "
        + (f"{left_out} cell(s) with no old way measured are left out. " if left_out else "")
        + tradeoff_finding(cells, axis)
    )
    return _to_chart(fig, title, alt, "tradeoff")


@_with_style
def platform_bars_chart(verdicts: list[Verdict], labels: dict[str, str]) -> Chart | None:
    """Best gain over the old way per (operation, format, workload), machines side by side."""
    measured = [v for v in verdicts if v.gain == v.gain]
    if not measured:
        return None
    platforms = list(dict.fromkeys(v.machine_key for v in measured))
    groups = list(dict.fromkeys((v.operation, v.format, v.workload) for v in measured))
    lookup = {(v.machine_key, v.operation, v.format, v.workload): v for v in measured}
    height = max(2.8, 0.32 * len(groups) * max(1, len(platforms) * 0.8) + 1.2)
    fig = Figure(figsize=(7.2, height), layout="constrained")
    ax = fig.subplots()
    _target_band(ax, horizontal=False)
    bar = 0.8 / len(platforms)
    hatches = ("", "//", "..", "xx", "\\\\", "++")
    for index, platform in enumerate(platforms):
        style = style_for(index)
        ys, xs, lows, highs = [], [], [], []
        for position, (operation, fmt, workload) in enumerate(groups):
            verdict = lookup.get((platform, operation, fmt, workload))
            if verdict is None:
                continue
            ys.append(position + (index - (len(platforms) - 1) / 2) * bar)
            xs.append(verdict.gain)
            lows.append(
                max(0.0, verdict.gain - verdict.gain_low)
                if verdict.gain_low == verdict.gain_low
                else 0.0
            )
            highs.append(
                max(0.0, verdict.gain_high - verdict.gain)
                if verdict.gain_high == verdict.gain_high
                else 0.0
            )
        ax.barh(
            ys,
            xs,
            height=bar * 0.9,
            xerr=[lows, highs],
            color=style.colour,
            hatch=hatches[index % len(hatches)],
            edgecolor="white",
            capsize=2,
            label=labels.get(platform, platform),
        )
    ax.set_yticks(range(len(groups)), [f"{o} {series_label(f, w)}" for o, f, w in groups])
    ax.invert_yaxis()
    ax.set_xlabel("best gain vs the old way (x), with its interval (95% for the family)")
    ax.set_xlim(left=0)
    ax.legend(loc="lower right")
    title = (
        "Best gain over the old way per cell, machines side by side"
        if len(platforms) > 1
        else f"Best gain over the old way per cell on {labels.get(platforms[0], platforms[0])}"
    )
    ax.set_title(title, fontweight="bold")
    parts = []
    for platform in platforms:
        mine = [v for v in measured if v.machine_key == platform]
        top = max(mine, key=lambda v: v.gain)
        parts.append(
            f"{labels.get(platform, platform)}: highest {_fmt_x(top.gain)} "
            f"({top.operation} {series_label(top.format, top.workload)})"
        )
    alt = (
        f"Horizontal bar chart of the best gain over the old way for {len(groups)} operation, "
        f"format and workload cells, one bar per machine, interval whiskers (95% for all the "
        f"configurations each best was picked from), 2x-4x band shaded. " + "; ".join(parts) + "."
    )
    return _to_chart(fig, title, alt, "platforms")


@_with_style
def relative_scaling_chart(
    rows: pd.DataFrame, verdicts: list[Verdict], labels: dict[str, str], cores: dict[str, int]
) -> Chart | None:
    """Efficiency (speedup / min(threads, usable cores)) against threads as a share of each
    machine's usable cores."""
    curves = [(v, curve_for(rows, v)) for v in verdicts if v.speedup == v.speedup]
    curves = [(v, c) for v, c in curves if not c.empty and cores.get(v.machine_key)]
    if not curves:
        return None
    platforms = list(dict.fromkeys(v.machine_key for v, _ in curves))
    operations = list(dict.fromkeys(v.operation for v, _ in curves))
    fig = _new_figure(len(operations))
    axes = dict(zip(operations, _grid(fig, len(operations))))
    for operation, ax in axes.items():
        for index, platform in enumerate(platforms):
            parts = [
                c.assign(
                    share=c["threads"] / cores[platform],
                    eff=c["speedup"] / c["threads"].clip(upper=cores[platform]),
                )
                for v, c in curves
                if v.machine_key == platform and v.operation == operation
            ]
            if not parts:
                continue
            merged = pd.concat(parts).groupby("share")["eff"].median()
            style = style_for(index)
            ax.plot(
                merged.index,
                merged.to_numpy(),
                color=style.colour,
                marker=style.marker,
                linestyle=style.linestyle,
                label=labels.get(platform, platform),
            )
        ax.axhline(1.0, color="#555555", linestyle=":", linewidth=1, label="ideal (linear)")
        ax.axvline(1.0, color="#999999", linewidth=0.8)
        ax.set_ylim(0, 1.15)
        ax.set_title(f"operation: {operation}")
        ax.set_xlabel("threads / usable cores")
        ax.set_ylabel("efficiency (speedup / min(threads, cores))")
        ax.legend(loc="lower left")
    title = "Scaling on relative scales: efficiency against share of cores"
    fig.suptitle(title, fontweight="bold")
    alt = (
        "Line charts, one per operation, of parallel efficiency (speedup divided by the "
        "threads the cores can run at once, 1.0 is ideal) against the thread count as a share "
        "of each machine's usable cores "
        "(1.0 = all cores), one line per platform: "
        f"{', '.join(labels.get(p, p) for p in platforms)}"
        ". Median over formats and workloads at each best configuration."
    )
    return _to_chart(fig, title, alt, "relative")
