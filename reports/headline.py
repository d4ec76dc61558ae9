"""The answer first: one sentence per machine, then its regressions, limits, memory and trust.

"On <machine> (2 usable cores): every operation is 1.9-3.1x faster than the old way; 2x met
by 4 of 12; the 4x line needs more than 2 cores". The gain is the best trustworthy cell of
each (operation, format, workload) against the old way (the reference loop). Below it: every
configuration slower than the old way (a regression), the targets beyond what the usable
cores allow, the memory budget verdict per memory source (never two sources mixed), and how
much of the data was too noisy to decide. The HTML report, the Markdown summary and the end
of ``archive-bench run`` all print these same lines.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from bench.newest_code import sweep_rows
from bench.schema import (
    BEYOND,
    MEETS,
    MEMORY_BUDGET_BYTES,
    MEMORY_BUDGET_THREADS,
    MEMORY_SOURCE_LABELS,
    NOISY_INTERVAL_SHARE,
)
from reports.loading import ResultSet
from reports.verdicts import (
    TARGETS,
    ClearedRegression,
    Verdict,
    best_verdicts,
    cleared_regressions,
    regressions,
)

MIB = 2**20


@dataclass
class Regression:
    text: str
    cell_id: str


@dataclass
class MachineHeadline:
    key: str
    label: str
    cores: int | None
    sentence: str
    operations: list[str] = field(default_factory=list)
    regressions: list[Regression] = field(default_factory=list)
    cleared: list[Regression] = field(default_factory=list)
    beyond: list[str] = field(default_factory=list)
    memory: list[str] = field(default_factory=list)
    trust: list[str] = field(default_factory=list)


def _range(values: list[float]) -> str:
    lo, hi = min(values), max(values)
    return f"{lo:.1f}x" if f"{lo:.1f}" == f"{hi:.1f}" else f"{lo:.1f}-{hi:.1f}x"


def _group_name(v: Verdict) -> str:
    return " ".join(x for x in (v.operation, v.format, v.workload) if x)


def _sentence(
    label: str,
    cores: int | None,
    mine: list[Verdict],
    cleared: list[ClearedRegression],
) -> str:
    """The headline sentence. A group counts as "slower even at best" only when a steady
    cell decided it and no parallel configuration of it was cleared by a side-by-side check
    (``cleared``): the lists below the sentence say the same."""
    core_text = f"{cores} usable core{'s' if cores != 1 else ''}" if cores else "cores unknown"
    measured = [v for v in mine if math.isfinite(v.gain)]
    if not measured:
        return f"On {label} ({core_text}): no valid measurement to judge."
    # a gain without an interval (too few values, as in a smoke run) judges nothing
    with_interval = [
        v for v in measured if math.isfinite(v.gain_low) and math.isfinite(v.gain_high)
    ]
    unjudged = len(measured) - len(with_interval)
    gains = [v for v in with_interval if v.judged]
    noisy = len(with_interval) - len(gains)
    skipped = [f"{noisy} group(s) with only noisy cells"] if noisy else []
    if unjudged:
        skipped.append(f"{unjudged} group(s) without an interval (too few values)")
    if not gains and noisy:
        return f"On {label} ({core_text}): nothing judged: {' and '.join(skipped)}."
    if not gains:
        return (
            f"On {label} ({core_text}): too few values for an interval in all "
            f"{unjudged} measured group(s); nothing judged (measure more values than a smoke "
            "run takes)."
        )
    fallback = sum(v.baseline != "reference" for v in gains)
    baseline = "the old way" + (
        f" (own sequential for {fallback} group(s) where the old way has no interval: not "
        "measured, or too few values of it)"
        if fallback
        else ""
    )
    values = [v.gain for v in gains]
    not_slower = {
        (c.sweep["operation"], c.sweep["format"], c.sweep["workload"])
        for c in cleared
        if c.sweep["variant"] == "parallel"
    }
    slower = [
        v
        for v in gains
        if v.gain_high < 1.0 and (v.operation, v.format, v.workload) not in not_slower
    ]
    if not slower and all(v.gain_low > 1.0 for v in gains):  # each faster, beyond its noise
        parts = [f"every operation is {_range(values)} faster than {baseline}"]
    else:
        faster = [v for v in gains if v.gain_low > 1.0]
        parts = [
            f"{len(faster)} of {len(gains)} operation groups are faster than {baseline} "
            f"({_range(values)} at best)"
        ]
        if slower:
            parts.append(f"{len(slower)} slower even at best")
    for target in TARGETS:
        name = f"{target:g}x"
        beyond = [v for v in gains if v.verdicts[name] == BEYOND]
        met = [v for v in gains if v.verdicts[name] == MEETS]
        if beyond and len(beyond) + len(met) == len(gains) and not met:
            parts.append(f"the {name} line needs more than {cores} cores")
        else:
            text = f"{name} met by {len(met)} of {len(gains)}"
            if beyond:
                text += f" ({len(beyond)} beyond this machine)"
            parts.append(text)
    if skipped:
        parts.append(f"{' and '.join(skipped)} not judged")
    return f"On {label} ({core_text}): " + "; ".join(parts)


def _operations(mine: list[Verdict]) -> list[str]:
    lines = []
    for operation in dict.fromkeys(v.operation for v in mine):
        group = [v for v in mine if v.operation == operation and math.isfinite(v.gain)]
        if not group:
            continue
        best = max(group, key=lambda v: v.gain)
        lines.append(
            f"{operation}: {_range([v.gain for v in group])} {best.baseline_name} "
            f"(best {_group_name(best)} {best.gain:.2f}x at {best.threads:g} threads)"
        )
    return lines


def _configuration(r: pd.Series) -> str:
    """What was measured, in words: "extract zip many-tiny x0.02 (2 threads)"."""
    what = " ".join(x for x in (r["operation"], r["format"], r["workload"]) if x)
    threads = int(r["threads"])
    plural = "s" if threads != 1 else ""
    config = r["variant"] if r["variant"] != "parallel" else f"{threads} thread{plural}"
    if r.get("oversubscribed"):
        config += ", oversubscribed"
    return f"{what} ({config})"


def _vs_old_way(r: pd.Series, words: str) -> str:
    """ "0.84x <words> [0.64-0.88]": the row's ratio to the old way and its interval."""
    return (
        f"{r['speedup_vs_reference']:.2f}x {words} "
        f"[{r['speedup_vs_reference_ci_low']:.2f}-{r['speedup_vs_reference_ci_high']:.2f}]"
    )


def _side_by_side(r: pd.Series) -> bool:
    return bool(r.get("side_by_side", False))


def _regressions(rows: pd.DataFrame) -> list[Regression]:
    out = []
    for _, r in regressions(rows).iterrows():
        how = f", side by side over {int(r['samples'])} rounds" if _side_by_side(r) else ""
        out.append(
            Regression(
                f"{_configuration(r)}: {_vs_old_way(r, 'of the old way')} in cell "
                f"{r['cell_id']}{how}",
                str(r["cell_id"]),
            )
        )
    return out


def _cleared(cleared: list[ClearedRegression]) -> list[Regression]:
    """The sweep's readings of "slower" that a side-by-side timing did not confirm."""
    return [
        Regression(
            f"{_configuration(c.sweep)}: {_vs_old_way(c.sweep, 'of the old way')} in the "
            f"sweep, {_vs_old_way(c.check, 'side by side')} over {int(c.check['samples'])} "
            "rounds",
            str(c.sweep["cell_id"]),
        )
        for c in cleared
    ]


def _beyond(mine: list[Verdict], cores: int | None) -> list[str]:
    lines = []
    for target in TARGETS:
        name = f"{target:g}x"
        groups = [_group_name(v) for v in mine if v.verdicts[name] == BEYOND]
        if groups:
            lines.append(
                f"{name} is beyond this machine for {len(groups)} group(s) "
                f"({', '.join(groups[:6])}{', ...' if len(groups) > 6 else ''}): "
                f"it needs more than the {cores} usable core(s)"
            )
    return lines


def memory_lines(rows: pd.DataFrame) -> list[str]:
    """The memory budget verdict, once per memory source (never mixed)."""
    budget = f"{MEMORY_BUDGET_BYTES / MIB:.0f} MiB over sequential at up to {MEMORY_BUDGET_THREADS}"
    lines = []
    cells = rows[(rows["variant"] == "parallel") & rows["valid"].astype(bool)]
    for source in sorted(s for s in cells["memory_source"].unique() if s):
        part = cells[
            (cells["memory_source"] == source) & (cells["threads"] <= MEMORY_BUDGET_THREADS)
        ]
        part = part.dropna(subset=["memory_delta_bytes"])
        label = MEMORY_SOURCE_LABELS.get(source, source)
        if part.empty:
            lines.append(f"memory ({label}): no delta over sequential measured")
            continue
        over = part[part["memory_delta_bytes"] > MEMORY_BUDGET_BYTES]
        worst = part["memory_delta_bytes"].max() / MIB
        if over.empty:
            lines.append(
                f"memory ({label}): within budget ({budget} threads) in all {len(part)} "
                f"cells; worst +{worst:.1f} MiB"
            )
        else:
            names = ", ".join(over["cell_id"].astype(str).head(5))
            lines.append(
                f"memory ({label}): OVER budget ({budget} threads) in {len(over)} of "
                f"{len(part)} cells, worst +{worst:.1f} MiB: {names}"
                + _never_resident_note(over, source)
            )
    return lines


def _never_resident_note(over: pd.DataFrame, source: str) -> str:
    """For memray cells whose whole process never held what the heap figure says (native
    code reserving buffers it does not touch, as rapidgzip does), the resident truth."""
    if source != "memray":
        return ""
    rss = pd.to_numeric(over["peak_rss_bytes"], errors="coerce")
    hollow = over[rss < over["memory_delta_bytes"]]
    if hollow.empty:
        return ""
    worst_rss = pd.to_numeric(hollow["peak_rss_bytes"]).max() / MIB
    return (
        f"; in {len(hollow)} of them the process's whole OS peak RSS (at most "
        f"{worst_rss:.0f} MiB) stayed below that growth: memory allocated but never resident"
    )


def _trust(rows: pd.DataFrame, cores: int | None) -> list[str]:
    rows = sweep_rows(rows)
    measured = rows[rows["valid"].astype(bool) & (rows["variant"] != "reference")]
    lines = []
    noisy = int(measured["noisy"].astype(bool).sum())
    lines.append(
        f"trust: {noisy} of {len(measured)} cells noisy (median interval over "
        f"{NOISY_INTERVAL_SHARE:.0%} of the median or unstable), left out of verdicts"
    )
    suspect = measured[measured["suspect_note"].astype(str) != ""]
    if not suspect.empty:
        lines.append(
            f"suspect: {len(suspect)} superlinear result(s) over own sequential (more than "
            f"min(threads, {cores} usable cores) allows), e.g. {suspect.iloc[0]['cell_id']}: "
            f"{suspect.iloc[0]['suspect_note']}"
        )
    over = sorted(
        {int(t) for t in measured.loc[measured["oversubscribed"].astype(bool), "threads"]}
    )
    if over:
        lines.append(
            f"oversubscribed: {', '.join(map(str, over))} threads exceed the {cores} usable "
            "core(s); measured and marked, not dropped"
        )
    return lines


def machine_headlines(result_set: ResultSet) -> list[MachineHeadline]:
    table = result_set.table
    verdicts = best_verdicts(table)
    out = []
    for key in result_set.platforms:
        mine = [v for v in verdicts if v.machine_key == key]
        rows = table[table["machine_key"] == key]
        cores = result_set.cores(key)
        label = result_set.headline_label(key)
        cleared = cleared_regressions(rows)
        out.append(
            MachineHeadline(
                key,
                label,
                cores,
                _sentence(label, cores, mine, cleared),
                _operations(mine),
                _regressions(rows),
                _cleared(cleared),
                _beyond(mine, cores),
                memory_lines(rows),
                _trust(rows, cores),
            )
        )
    return out


def headline_lines(result_set: ResultSet, max_regressions: int = 10) -> list[str]:
    """The headline as plain text lines (terminal, CI log)."""
    lines = []
    for h in machine_headlines(result_set):
        lines.append(h.sentence)
        lines += [f"  {line}" for line in h.operations]
        if h.regressions:
            lines.append(
                f"  REGRESSIONS: {len(h.regressions)} configuration(s) slower than the old way"
            )
            lines += [f"    {r.text}" for r in h.regressions[:max_regressions]]
            if len(h.regressions) > max_regressions:
                lines.append(
                    f"    ... and {len(h.regressions) - max_regressions} more (see the report)"
                )
        else:
            lines.append("  no regression: no configuration is slower than the old way")
        if h.cleared:
            lines.append(
                f"  not slower when checked side by side: {len(h.cleared)} configuration(s) "
                "the sweep read slower than the old way"
            )
            lines += [f"    {r.text}" for r in h.cleared[:max_regressions]]
            if len(h.cleared) > max_regressions:
                more = len(h.cleared) - max_regressions
                lines.append(f"    ... and {more} more (see the report)")
        lines += [f"  {line}" for line in (*h.beyond, *h.memory, *h.trust)]
    return lines
