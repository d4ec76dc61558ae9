"""Tuned defaults per machine, chosen from measured speedups under a memory budget.

For each machine key in the results, only the cells of the code the newest run measuring them
measured count, as in the report (``bench.newest_code.current_rows``); runs of older code are
left out, and ``TuneResult.left_out`` says so in one line. The thread count is the smallest
whose speedup (geometric mean over the operation/format/workload groups measured at every
candidate thread count) is within ``tolerance`` of the best, among configurations whose peak
memory fits the budget; thread counts above the machine's usable cores compete only when they
were measured faster than every count within the cores by more than the tolerance. The batch
size is chosen the same way at that thread count; the parallel threshold is the smallest one
within tolerance of the best overall speedup when every workload with fewer files runs
sequentially. A setting with one value measured (one thread count; one batch size or one
workload's file count at the chosen thread count) is not tuned: there is nothing to choose
between, so it stays the library default and the profile says so. The explanation says in
words why each setting is what the profile holds: a tuned one by what it was chosen from, a
default one by the single value measured (``explain``).
``write_profile`` saves ``results/<machine key>/tuned.json``; installed (``--install``), it
is what ``ArchiveManager()`` and ``ArchiveConfig.tuned()`` start from.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from archive_parallel.atomic import atomic_write_bytes, atomic_write_text
from archive_parallel.config import MAX_TUNED_PROFILE_SIZE
from archive_parallel.small_file import read_small_file
from bench import provenance, stats
from bench.grid import DEFAULT_BATCH_SIZE
from bench.newest_code import current_rows, superseded_run_dirs, sweep_rows
from bench.schema import FINGERPRINT_FILE, RUN_FILE, TUNED_FILE

logger = logging.getLogger(__name__)

DEFAULT_TOLERANCE = 0.05
DEFAULT_THRESHOLD = 20


@dataclass
class TuneResult:
    platform_key: str
    platform_label: str
    #: only the settings the sweep varied and this tuning chose
    settings: dict[str, int]
    best_speedup: float
    chosen_speedup: float
    explanation: str
    source_runs: list[str] = field(default_factory=list)
    memory_budget_bytes: int | None = None
    machine_key: str = ""
    cores_usable: int | None = None
    #: settings left at the library default because the sweep did not vary them
    defaults: dict[str, int] = field(default_factory=dict)
    #: one line naming the runs of other code left out (``left_out_line``), or ""
    left_out: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "machine_key": self.machine_key,
            "cores_usable": self.cores_usable,
            "platform_key": self.platform_key,
            "platform_label": self.platform_label,
            "settings": self.settings,
            "defaults": self.defaults,
            "best_speedup": _round(self.best_speedup),
            "chosen_speedup": _round(self.chosen_speedup),
            "explanation": self.explanation,
            "source_runs": self.source_runs,
            "memory_budget_bytes": self.memory_budget_bytes,
        }


def _round(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), 4)


def _peak(frame: pd.DataFrame) -> pd.Series:
    heap = pd.to_numeric(frame["peak_heap_bytes"], errors="coerce")
    rss = pd.to_numeric(frame["peak_rss_bytes"], errors="coerce")
    return heap.where(frame["memory_source"] == "memray", rss)


def usable_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Valid parallel cells with a finite speedup (throttled and emulated cells left out)."""
    real = ~table["emulated"].astype(bool) if "emulated" in table else True
    ok = (
        (table["variant"] == "parallel")
        & table["valid"].astype(bool)
        & ~table["throttled"].astype(bool)
        & real
        & pd.to_numeric(table["speedup"], errors="coerce").notna()
    )
    rows = table[ok].copy()
    rows["speedup"] = pd.to_numeric(rows["speedup"])
    rows["_peak"] = _peak(rows)
    rows["_group"] = (
        rows["operation"].astype(str)
        + "|"
        + rows["format"].astype(str)
        + "|"
        + rows["workload"].astype(str)
        + "|"
        + rows["scale"].astype(str)
        + "|"
        + rows["backend"].astype(str)
    )
    return rows


def _score(rows: pd.DataFrame, by: str) -> pd.DataFrame:
    """Per value of ``by``: geometric-mean speedup over the groups measured at every value,
    the worst peak memory, and how many groups were used."""
    values = sorted(rows[by].unique())
    per_group = rows.groupby(["_group", by])["speedup"].max().unstack(by)
    complete = per_group.dropna()
    used = complete if not complete.empty else per_group
    out = []
    for v in values:
        sub = rows[rows[by] == v]
        out.append(
            {
                by: int(v),
                "score": stats.geometric_mean(used[v].dropna().tolist()),
                "peak": float(sub["_peak"].max()) if sub["_peak"].notna().any() else math.nan,
                "groups": int(used[v].notna().sum()),
            }
        )
    return pd.DataFrame(out)


def within_cores(scores: pd.DataFrame, cores: int | None, tolerance: float) -> pd.DataFrame:
    """Thread counts up to the usable cores, and above them only those measured faster than
    every count within the cores by more than ``tolerance``."""
    if not cores or scores.empty:
        return scores
    inside = scores[scores["threads"] <= cores]
    if inside.empty:
        return scores
    best_inside = float(inside["score"].max())
    faster = scores[(scores["threads"] > cores) & (scores["score"] > best_inside * (1 + tolerance))]
    return pd.concat([inside, faster])


def _library_defaults() -> dict[str, int]:
    from archive_parallel.config import ArchiveConfig

    config = ArchiveConfig()
    return {
        "thread_pool_size": int(config.thread_pool_size),
        "parallel_batch_size": int(config.parallel_batch_size),
        "parallel_threshold": int(config.parallel_threshold),
    }


def _pick(scores: pd.DataFrame, by: str, tolerance: float, budget: int | None) -> tuple:
    fits = scores
    if budget:
        fits = scores[~(scores["peak"] > budget)]
        if fits.empty:
            fits = scores.nsmallest(1, "peak")
    best = float(fits["score"].max())
    within = fits[fits["score"] >= best * (1.0 - tolerance)].sort_values(by)
    chosen = within.iloc[0]
    return int(chosen[by]), float(chosen["score"]), best, fits


def choose_threshold(
    table: pd.DataFrame, threads: int, tolerance: float = DEFAULT_TOLERANCE
) -> tuple[int, str]:
    """The smallest ``parallel_threshold`` within ``tolerance`` of the best overall speedup.

    Each workload's speedup at ``threads`` (best batch size per operation group, geometric
    mean over groups) counts when its file count reaches the threshold, else 1.0 (it would
    run sequentially). Candidates: the default (or the smallest workload's file count, when
    smaller: nothing below it was measured) and one more than each workload's file count.
    """
    rows = usable_rows(table)
    rows = rows[rows["threads"] == threads]
    if rows.empty:
        return DEFAULT_THRESHOLD, "no parallel cells at the chosen thread count; default kept"
    best_per_group = rows.groupby(["files_processed", "_group"])["speedup"].max()
    per_workload = best_per_group.groupby(level=0).apply(lambda s: stats.geometric_mean(s.tolist()))
    files = [int(f) for f in per_workload.index]
    candidates = sorted({min(DEFAULT_THRESHOLD, min(files))} | {f + 1 for f in files})

    def overall(threshold: int) -> float:
        return stats.geometric_mean(
            [per_workload[f] if f >= threshold else 1.0 for f in per_workload.index]
        )

    scores = {t: overall(t) for t in candidates}
    best = max(scores.values())
    chosen = min(t for t, v in scores.items() if v >= best * (1.0 - tolerance))
    detail = ", ".join(f"{f} files: {s:.2f}x" for f, s in zip(files, per_workload))
    if chosen > max(files):
        why = f"parallel does not pay on any measured workload ({detail})"
    else:
        why = (
            f"smallest threshold within {tolerance:.0%} of the best overall speedup "
            f"{best:.2f}x when smaller trees run sequentially ({detail})"
        )
    return chosen, why


def tune_platform(
    table: pd.DataFrame,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    memory_budget_bytes: int | None = None,
) -> TuneResult:
    """Tuned settings for the one machine in ``table``."""
    group = _machine_column(table)
    keys = table[group].dropna().unique()
    if len(keys) != 1:
        raise ValueError(f"tune_platform needs one machine, got {list(keys)}")
    machine = str(keys[0])
    key = str(table["platform_key"].dropna().iloc[0]) if "platform_key" in table else machine
    label = str(table["platform_label"].dropna().iloc[0]) if "platform_label" in table else key
    left_out = superseded_run_dirs(table)
    # the newest code's sweeps only, as the report judges (a check's rows decide no setting)
    table = sweep_rows(current_rows(table))
    cores = _cores(table)
    runs = sorted(table["run_id"].dropna().astype(str).unique())
    if "emulated" in table and table["emulated"].astype(bool).all():
        raise ValueError(f"{key} was measured under emulation, which never decides a profile")
    rows = usable_rows(table)
    if rows.empty:
        raise ValueError(f"no valid parallel cells with a speedup for {machine}")
    thread_scores = _score(rows, "threads")
    candidates = within_cores(thread_scores, cores, tolerance)
    threads, t_score, t_best, _ = _pick(candidates, "threads", tolerance, memory_budget_bytes)
    at_threads = rows[rows["threads"] == threads]
    batch_scores = _score(at_threads, "batch_size")
    batch, _, _, _ = _pick(batch_scores, "batch_size", tolerance, memory_budget_bytes)
    if batch <= 0:
        batch = DEFAULT_BATCH_SIZE
    threshold, why_threshold = choose_threshold(table, threads, tolerance)
    library = _library_defaults()
    # what each choice was made between: the thread counts measured, and at the chosen
    # count the batch sizes and the workloads' file counts
    measured = {
        "thread_pool_size": sorted(int(x) for x in rows["threads"].unique()),
        "parallel_batch_size": sorted(int(x) for x in at_threads["batch_size"].unique()),
        "parallel_threshold": sorted(int(x) for x in at_threads["files_processed"].unique()),
    }
    chosen = {
        "thread_pool_size": threads,
        "parallel_batch_size": batch,
        "parallel_threshold": threshold,
    }
    settings = {k: v for k, v in chosen.items() if len(measured[k]) > 1}
    defaults = {k: library[k] for k in chosen if k not in settings}
    budget_text = (
        f" under a memory budget of {memory_budget_bytes / 2**20:.0f} MiB"
        if memory_budget_bytes
        else ""
    )
    describe_t = ", ".join(
        f"{int(r.threads)}: {r.score:.2f}x"
        for r in thread_scores.itertuples()
        if r.score == r.score
    )
    describe_b = ", ".join(
        f"{int(r.batch_size)}: {r.score:.2f}x"
        for r in batch_scores.itertuples()
        if r.score == r.score
    )
    over = sorted(set(thread_scores["threads"]) - set(candidates["threads"]))
    cores_text = (
        f" ({', '.join(map(str, over))} left out: above the {cores} usable core(s) and not "
        "measured faster)"
        if over
        else ""
    )
    reasons = {
        "thread_pool_size": f"the smallest thread count within {tolerance:.0%} of the best "
        f"geometric-mean speedup ({t_best:.2f}x){budget_text}; by threads {describe_t}"
        f"{cores_text}",
        "parallel_batch_size": f"the smallest batch size within {tolerance:.0%} of the best "
        f"at {threads} threads ({describe_b})",
        "parallel_threshold": why_threshold,
    }
    explanation = explain(settings, reasons, measured, defaults, threads)
    return TuneResult(
        platform_key=key,
        platform_label=label,
        settings=settings,
        machine_key=machine,
        cores_usable=cores,
        defaults=defaults,
        best_speedup=t_best,
        chosen_speedup=t_score,
        explanation=explanation,
        source_runs=runs,
        memory_budget_bytes=memory_budget_bytes,
        left_out=left_out_line(left_out),
    )


#: what one measured value of each setting is, for "only one ... was measured"
MEASURED_WHAT = {
    "thread_pool_size": ("thread count", ""),
    "parallel_batch_size": ("batch size", " at {threads} threads"),
    "parallel_threshold": ("workload size", " at {threads} threads"),
}


def explain(
    settings: dict[str, int],
    reasons: dict[str, str],
    measured: dict[str, list[int]],
    defaults: dict[str, int],
    threads: int,
) -> str:
    """Why each setting is what the profile says, in the order of ``MEASURED_WHAT``: a tuned
    one (in ``settings``) by its reason, one left at the library default (in ``defaults``)
    by what was measured of it: a single value, nothing to choose between."""
    sentences = [] if settings else ["Nothing tuned: every setting keeps the library default."]
    for name, (what, where) in MEASURED_WHAT.items():
        if name in settings:
            sentences.append(f"{name}={settings[name]}: {reasons[name]}.")
            continue
        only = ", ".join(map(str, measured[name])) or "none"
        unit = " files" if name == "parallel_threshold" and measured[name] else ""
        sentences.append(
            f"{name} left at the library default {defaults[name]}: only one {what} was "
            f"measured{where.format(threads=threads)} ({only}{unit}), nothing to choose between."
        )
    return " ".join(sentences)


def left_out_line(folders: list[str]) -> str:
    """One line saying how many runs of other code than the newest run's a tuning left out
    (``bench.newest_code.superseded_run_dirs``), which code they measured and which they are;
    "" when none."""
    if not folders:
        return ""
    from bench.runner import read_json

    codes = dict.fromkeys(provenance.describe(read_json(Path(f) / RUN_FILE)) for f in folders)
    runs = f"{len(folders)} older run{'s' if len(folders) != 1 else ''}"
    return (
        f"left out {runs} of other code ({'; '.join(codes)}): "
        f"{', '.join(Path(f).name for f in folders)}; tuned from the newest code's runs"
    )


def _machine_column(table: pd.DataFrame) -> str:
    if "machine_key" in table and (table["machine_key"].astype(str) != "").all():
        return "machine_key"
    return "platform_key"


def _cores(table: pd.DataFrame) -> int | None:
    if "cores_usable" not in table:
        return None
    cores = pd.to_numeric(table["cores_usable"], errors="coerce").dropna()
    return int(cores.min()) if not cores.empty else None


def default_memory_budget(results_root: Path, machine_key: str) -> int | None:
    """A quarter of the machine's memory, from the newest fingerprint of that machine."""
    fingerprints = sorted((results_root / machine_key).glob(f"*/{FINGERPRINT_FILE}"))
    for path in reversed(fingerprints):
        try:
            memory = json.loads(path.read_text(encoding="utf-8")).get("memory_bytes")
        except (OSError, ValueError):
            continue
        if memory:
            return int(memory) // 4
    return None


def tune_all(
    table: pd.DataFrame,
    results_root: Path,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    memory_budget_bytes: int | None = None,
) -> list[TuneResult]:
    out = []
    for key, part in table.groupby(_machine_column(table)):
        budget = memory_budget_bytes or default_memory_budget(results_root, str(key))
        try:
            out.append(tune_platform(part, tolerance=tolerance, memory_budget_bytes=budget))
        except ValueError as exc:
            logger.warning("cannot tune %s: %s", key, exc)
    return out


def write_profile(result: TuneResult, results_root: Path) -> Path:
    """Write the machine's ``tuned.json`` under ``results_root`` (atomically); its path."""
    target = results_root / (result.machine_key or result.platform_key) / TUNED_FILE
    atomic_write_text(target, json.dumps(result.to_dict(), indent=2) + "\n")
    return target


def install_profile(profile: Path, destination: Path) -> Path:
    """Copy a tuned.json to where ``ArchiveConfig.tuned()`` looks for this platform; the
    copy is atomic, so the library never reads a half-written profile."""
    atomic_write_bytes(destination, profile.read_bytes())
    return destination


def profile_diff(installed: Path, result: TuneResult) -> list[str]:
    """What installing ``result`` over the profile at ``installed`` changes, in words."""
    try:
        raw = read_small_file(installed, MAX_TUNED_PROFILE_SIZE)
        if raw is None:
            return [f"no profile installed yet at {installed}"]
        old = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else exc
        return [f"replacing an unreadable profile at {installed} ({reason})"]
    if not isinstance(old, dict) or not isinstance(old.get("settings", {}), dict):
        return [f"replacing a profile at {installed} that holds no object of settings"]
    old_settings = old.get("settings") or {}
    library = _library_defaults()
    lines = [
        f"installed profile {installed} (from {old.get('machine_key') or old.get('platform_key')})"
    ]
    for name in library:
        before = old_settings.get(name, f"default {library[name]}")
        after = result.settings.get(name, f"default {library[name]}")
        mark = "unchanged" if before == after else "changes"
        lines.append(f"  {name}: {before} -> {after} ({mark})")
    return lines
