"""The results table: one tidy row per measured cell, built from a run's ``cells.jsonl``.

The columns are ``bench.schema.COLUMNS`` (documented in docs/results-schema.md);
``build_table`` computes them from the raw records the runner appended (raw pyperf values,
memory, verification) and the run's fingerprint (machine, usable cores), so a table can
always be rebuilt, and ``write_table`` saves ``results.csv`` and ``results.json`` (records).
Verdicts compare with the old way (the reference loop) and know the usable cores: a target
the cores cannot reach is "beyond this machine", not a miss. ``load_results`` finds every
``results.csv`` under the given folders; runs join on ``machine_key``, never on a folder name.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

from bench.schema import (
    CELLS_FILE,
    COLUMNS,
    FINGERPRINT_FILE,
    MEMORY_BUDGET_BYTES,
    MEMORY_BUDGET_THREADS,
    RESULTS_FILE,
    RESULTS_JSON_FILE,
    RUN_FILE,
    SCHEMA_VERSION,
    TEXT_COLUMNS,
)

logger = logging.getLogger(__name__)

BASELINE_VARIANTS = ("sequential", "reference")
GROUP_KEYS = ["operation", "format", "workload", "scale"]


def read_records(cells_jsonl: Path) -> list[dict[str, Any]]:
    """Records of completed cells; torn lines (killed mid-write) are skipped."""
    return scan_records(cells_jsonl)[0]


def scan_records(cells_jsonl: Path) -> tuple[list[dict[str, Any]], int]:
    """(records of completed cells, number of torn or unreadable lines)."""
    records: dict[str, dict[str, Any]] = {}
    torn = 0
    if not cells_jsonl.exists():
        return [], 0
    with open(cells_jsonl, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
                records[record["cell_id"]] = record
            except (json.JSONDecodeError, KeyError, TypeError):
                torn += 1
    if torn:
        logger.warning("skipped %d torn line(s) in %s", torn, cells_jsonl)
    return list(records.values()), torn


def repair_torn_tail(cells_jsonl: Path) -> bool:
    """Cut a last line that lacks its newline (a write killed midway), so the next record
    appended starts on a line of its own instead of gluing onto the torn one. True if cut."""
    if not cells_jsonl.exists():
        return False
    with open(cells_jsonl, "rb+") as handle:
        data = handle.read()
        if not data or data.endswith(b"\n"):
            return False
        keep = data.rfind(b"\n") + 1
        handle.truncate(keep)
        handle.flush()
        os.fsync(handle.fileno())
    logger.warning("cut a torn last line of %s before resuming", cells_jsonl)
    return True


def timed_side_by_side(base: dict[str, Any], record: dict[str, Any]) -> bool:
    """Whether two records' values were timed round by round in one process (both carry the
    same ``round_group``, as ``bench.interleaved`` writes it), so their intervals pair rounds."""
    group = base.get("round_group")
    return (
        bool(group)
        and group == record.get("round_group")
        and len(base["values"]) == len(record["values"])
    )


def free_round_indices(
    base: dict[str, Any], record: dict[str, Any], max_contention: float
) -> list[int] | None:
    """The rounds of two side-by-side records in which other work took at most
    ``max_contention`` of the CPUs, over the round (``round_contention``) and during each of
    the two timings long enough to be read on their own (``value_contention``,
    ``bench.contention.busy_timing``); None when the records were not timed side by side or
    carry no round readings (all rounds count)."""
    from bench.contention import busy_timing

    if not timed_side_by_side(base, record):
        return None
    shares = base.get("round_contention")
    if not shares or len(shares) != len(base["values"]):
        return None
    return [
        i
        for i, share in enumerate(shares)
        if share <= max_contention
        and not busy_timing(base, i, max_contention)
        and not busy_timing(record, i, max_contention)
    ]


def value_processes(record: dict[str, Any]) -> list[int] | None:
    """The pyperf worker process of each of the record's values, or None where the record
    does not say (records filed before it was kept, interleaved rounds)."""
    processes = record.get("value_process")
    return list(processes) if processes and len(processes) == len(record["values"]) else None


def judged_values(
    base: dict[str, Any], record: dict[str, Any], max_contention: float | None = None
) -> tuple[list[float], list[float], bool, list[int] | None, list[int] | None]:
    """The values a ratio of two valid records rests on, whether they are paired (timed
    side by side), and each side's worker processes where known (``value_processes``; for
    ``stats.pooled_ratio_ci``): with ``max_contention``, side-by-side records keep their free
    rounds only (``free_round_indices``), both sides the same rounds."""
    base_values, values = base["values"], record["values"]
    paired = timed_side_by_side(base, record)
    if max_contention is not None:
        kept = free_round_indices(base, record, max_contention)
        if kept is not None:
            base_values = [base_values[i] for i in kept]
            values = [values[i] for i in kept]
    if paired:
        return base_values, values, True, None, None
    return base_values, values, False, value_processes(base), value_processes(record)


def record_ratio(
    base: dict[str, Any] | None,
    record: dict[str, Any],
    seed: int,
    max_contention: float | None = None,
) -> tuple[float, float, float]:
    """median(base) / median(record) with its 95% interval, rounds paired where both records
    were timed side by side; NaNs when either is missing or invalid. With ``max_contention``,
    side-by-side records are judged from their free rounds only (``free_round_indices``), both
    sides from the same rounds; NaNs when none is left."""
    if base is None:
        return (math.nan, math.nan, math.nan)
    return pooled_record_ratio([(base, record)], seed, max_contention)


def pooled_record_ratio(
    pairs: list[tuple[dict[str, Any], dict[str, Any]]],
    seed: int,
    max_contention: float | None = None,
) -> tuple[float, float, float]:
    """``record_ratio`` over several runs' (base, record) pairs of the same two cells: the
    ratio of the medians of all their (free) values, its interval resampled run by run
    (``stats.pooled_ratio_ci``); NaNs when any record is invalid or nothing is left."""
    from bench import stats

    if not pairs or any(not b.get("valid") or not r.get("valid") for b, r in pairs):
        return (math.nan, math.nan, math.nan)
    samples = [judged_values(base, record, max_contention) for base, record in pairs]
    return stats.pooled_ratio_ci(samples, seed=seed)


def _peak(record: dict[str, Any] | None) -> float:
    """The peak of the record's own memory source: memray heap, or OS peak RSS."""
    if record is None:
        return math.nan
    source = record.get("memory_source")
    value = record.get("peak_heap_bytes" if source == "memray" else "peak_rss_bytes")
    return float(value) if value is not None and source else math.nan


def memory_delta(record: dict[str, Any], seq: dict[str, Any] | None) -> float:
    """Peak over the sequential cell's peak, only when both come from the same source."""
    if seq is None or record.get("memory_source") != seq.get("memory_source"):
        return math.nan
    return _peak(record) - _peak(seq)


def budget_verdict(variant: str, threads: int, delta: float) -> str:
    """within/over the memory budget for parallel cells up to the budget's thread count."""
    if variant != "parallel" or threads > MEMORY_BUDGET_THREADS or not math.isfinite(delta):
        return ""
    return "within" if delta <= MEMORY_BUDGET_BYTES else "over"


def suspect_note(speedup: float, threads: int, cores: int) -> str:
    """Why a speedup over own sequential is not believable, or ''.

    More CPU gives at most min(threads, usable cores) times the sequential speed (the
    denominator of ``efficiency``); a speedup 5% above that is flagged, naming both."""
    limit = max(1, min(threads, cores))
    if math.isfinite(speedup) and speedup > limit * 1.05:
        return (
            f"superlinear: {speedup:.2f}x over own sequential with {threads} thread(s) on "
            f"{cores} usable core(s), more than the {limit}x that min(threads, cores) allows; "
            "likely a slowed sequential baseline (noise, cold cache) or waits on storage "
            "overlapping, not more CPU"
        )
    return ""


def throttled_note(record: dict[str, Any], baseline: dict[str, Any] | None) -> str:
    """Why a cell's ratio cannot be trusted for a verdict because a CPU was throttled (its
    own timing, or its baseline's, slowed by the clock rather than the code), or ''."""
    if record.get("throttled"):
        return "measured while the CPU was throttled"
    if baseline is not None and baseline is not record and baseline.get("throttled"):
        return f"its baseline ({baseline['variant']}) was measured while the CPU was throttled"
    return ""


def verdict_baseline(on_reference: bool, sequential_low: float) -> str:
    """What a cell's verdicts rest on: ``reference`` (its ratio to the old way has an
    interval), ``sequential`` (no such interval: no reference measured, or one that failed its
    output check or has too few values, and the ratio to own sequential has one), or ``none``
    (neither ratio has an interval, as in a smoke run of fewer than ``MIN_SAMPLES`` values:
    no verdict)."""
    if on_reference:
        return "reference"
    return "sequential" if math.isfinite(sequential_low) else "none"


def _num(value: Any) -> float:
    return math.nan if value is None else float(value)


#: what a seed of a record's ratio to the old way adds to its table seed (``in_table_order``)
OLD_WAY_SEED_OFFSET = 7919


def in_table_order(records: Iterable[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """The records in the table's order (by cell id), each with the seed its intervals are
    drawn with (``stats.DEFAULT_SEED`` plus its place), so a table rebuilt from the same
    records, or a reader judging them without one (``bench.confirm``), reads the same
    intervals."""
    from bench import stats

    ordered = sorted(records, key=lambda rec: rec["cell_id"])
    return [(stats.DEFAULT_SEED + i, record) for i, record in enumerate(ordered)]


def old_way_of(
    baselines: dict[tuple, dict[str, Any]], record: dict[str, Any]
) -> dict[str, Any] | None:
    """The reference (old way) record of ``record``'s operation, format and workload, from
    ``baselines`` (``baselines_by_key``)."""
    group = (record["operation"], record["format"], record["workload"], record["scale"])
    return baselines.get(("reference", *group, ""))


def baselines_by_key(records: list[dict[str, Any]]) -> dict[tuple, dict[str, Any]]:
    by_key: dict[tuple, dict[str, Any]] = {}
    for r in records:
        if r["variant"] in BASELINE_VARIANTS:
            backend = r["backend"] if r["variant"] == "sequential" else ""
            key = (r["variant"], r["operation"], r["format"], r["workload"], r["scale"], backend)
            by_key[key] = r
    return by_key


def build_table(
    records: Iterable[dict[str, Any]], run_id: str, fingerprint: dict[str, Any]
) -> pd.DataFrame:
    """The tidy table of one run (columns exactly ``COLUMNS``)."""
    import pandas as pd

    from bench import stats

    records = list(records)
    by_key = baselines_by_key(records)
    cores = int(fingerprint.get("cores_usable") or 1)
    rows = []
    for seed, r in in_table_order(records):
        group = (r["operation"], r["format"], r["workload"], r["scale"])
        seq = by_key.get(("sequential", *group, r["backend"])) or by_key.get(
            ("sequential", *group, "zlib")
        )
        ref = old_way_of(by_key, r)
        speedup, lo, hi = record_ratio(seq, r, seed)
        vs_ref, rlo, rhi = record_ratio(ref, r, seed + OLD_WAY_SEED_OFFSET)
        seq_vs_ref = record_ratio(ref, seq, seed + 104729)[0] if seq is not None else math.nan
        summary = stats.summarize(r["values"])
        share = stats.median_interval_share(r["values"], groups=value_processes(r), seed=seed)
        noisy, note = stats.noise_flags(r["values"], r.get("pyperf_warnings", []), share)
        baseline = r["variant"] in BASELINE_VARIANTS
        emulated = bool(fingerprint.get("emulated"))
        threads = int(r["threads"])
        on_reference = ref is not None and math.isfinite(rlo)
        untrusted = throttled_note(r, ref if on_reference else seq)
        if untrusted:  # a slowed baseline inflates every ratio against it: no verdict
            noisy, note = True, "; ".join(x for x in (untrusted, note) if x)
        # the most the cores allow over the baseline the verdicts use
        ceiling = cores * (max(1.0, seq_vs_ref) if on_reference and seq_vs_ref == seq_vs_ref else 1)
        v_lo, v_hi = (rlo, rhi) if on_reference else (lo, hi)
        delta = memory_delta(r, seq)
        median = summary["median_s"]
        rows.append(
            {
                "schema_version": SCHEMA_VERSION,
                "run_id": run_id,
                "machine": fingerprint.get("machine", ""),
                "machine_key": fingerprint.get("machine_key", ""),
                "cores_usable": cores,
                "platform_key": fingerprint.get("platform_key", ""),
                "platform_label": fingerprint.get("platform_label", ""),
                "cell_id": r["cell_id"],
                "operation": r["operation"],
                "format": r["format"],
                "workload": r["workload"],
                "scale": float(r["scale"]),
                "variant": r["variant"],
                "threads": threads,
                "batch_size": int(r["batch_size"]),
                "backend": r["backend"],
                "samples": len(r["values"]),
                **summary,
                "median_interval_share": share,
                "speedup": speedup,
                "speedup_ci_low": lo,
                "speedup_ci_high": hi,
                "speedup_vs_reference": vs_ref,
                "speedup_vs_reference_ci_low": rlo,
                "speedup_vs_reference_ci_high": rhi,
                "efficiency": speedup / min(threads, cores) if threads else math.nan,
                "verdict_baseline": "" if baseline else verdict_baseline(on_reference, lo),
                "verdict_2x": ""
                if baseline or emulated
                else stats.verdict(v_lo, v_hi, 2.0, ceiling),
                "verdict_4x": ""
                if baseline or emulated
                else stats.verdict(v_lo, v_hi, 4.0, ceiling),
                "regression": r["variant"] != "reference" and bool(r.get("valid")) and rhi < 1.0,
                "oversubscribed": r["variant"] in ("parallel", "pigz") and threads > cores,
                "suspect_note": suspect_note(speedup, threads, cores)
                if r["variant"] == "parallel"
                else "",
                "peak_rss_bytes": _num(r.get("peak_rss_bytes")),
                "peak_heap_bytes": _num(r.get("peak_heap_bytes")),
                "memory_delta_bytes": delta,
                "memory_source": r.get("memory_source", ""),
                "memory_budget_verdict": budget_verdict(r["variant"], threads, delta),
                "bytes_processed": int(r.get("bytes_processed", 0)),
                "files_processed": int(r.get("files_processed", 0)),
                "throughput_mb_s": r.get("bytes_processed", 0) / median / 1e6
                if median and median > 0
                else math.nan,
                "valid": bool(r.get("valid")),
                "invalid_reason": r.get("invalid_reason", ""),
                "noisy": noisy,
                "noise_note": note,
                "throttled": bool(r.get("throttled", False)),
                "emulated": emulated,
                "serial_fraction": math.nan,
                "pyperf_json": r.get("pyperf_json", ""),
                "flamegraph": r.get("flamegraph", ""),
                "output_bytes": _num(r.get("output_bytes")),
                "side_by_side": r["variant"] != "reference"
                and ref is not None
                and timed_side_by_side(ref, r),
            }
        )
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    return add_serial_fractions(table)


def add_serial_fractions(table: pd.DataFrame) -> pd.DataFrame:
    """Fill ``serial_fraction`` per scaling curve of valid parallel cells."""
    from bench import stats

    if table.empty:
        return table
    curve_keys = ["operation", "format", "workload", "scale", "batch_size", "backend"]
    parallel = table[(table["variant"] == "parallel") & table["valid"]]
    for _key, curve in parallel.groupby(curve_keys, dropna=False):
        f = stats.fit_serial_fraction(curve["threads"].to_numpy(), curve["speedup"].to_numpy())
        table.loc[curve.index, "serial_fraction"] = f
    return table


def write_table(table: pd.DataFrame, run_dir: Path) -> None:
    """Write ``results.csv`` and ``results.json`` of ``run_dir``, replaced together
    (``atomic_outputs``): an interrupt or a full disk leaves the previous pair, never a part."""
    from archive_parallel.atomic import atomic_outputs

    records = json.loads(table.to_json(orient="records"))
    with atomic_outputs() as group:
        handle, _ = group.open(run_dir / RESULTS_FILE)
        handle.write(table.to_csv(index=False).encode("utf-8"))
        handle, _ = group.open(run_dir / RESULTS_JSON_FILE)
        handle.write(json.dumps(records, indent=1).encode("utf-8"))


def build_missing_tables(paths: Iterable[Path]) -> list[Path]:
    """Write ``results.csv`` for every run folder below ``paths`` that has measured cells but
    no table: a sweep on a machine without the report extra (a 32-bit Pi has no pandas wheels)
    leaves only ``cells.jsonl``, and the table is built wherever the results are read."""
    built = []
    for path in paths:
        path = Path(path)
        if not path.is_dir():
            continue
        for cells in sorted(path.rglob(CELLS_FILE)):
            run_dir = cells.parent
            if (run_dir / RESULTS_FILE).exists() or ".fixtures" in run_dir.parts:
                continue
            write_table(table_from_records(run_dir, read_records(cells)), run_dir)
            built.append(run_dir)
    return built


def table_from_records(run_dir: Path, records: list[dict[str, Any]]) -> pd.DataFrame:
    """The table of ``run_dir`` built from its ``records`` (its cells.jsonl) as the run
    builds it, with the machine its fingerprint.json describes."""
    try:
        fingerprint = json.loads((run_dir / FINGERPRINT_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        fingerprint = {}
    return build_table(records, run_dir.name, fingerprint)


def short_rows(csv_path: Path) -> list[int]:
    """The places (0 = first row under the header) of the rows with fewer fields than the
    header: a file cut mid-row, as a copy or a full disk leaves it."""
    try:
        with open(csv_path, newline="", encoding="utf-8", errors="replace") as handle:
            reader = csv.reader(handle)
            width = len(next(reader, []))
            rows = [row for row in reader if row]  # pandas skips blank lines too
    except (OSError, csv.Error):
        return []
    return [i for i, row in enumerate(rows) if len(row) < width]


def read_run_table(csv_path: Path, **options: Any) -> tuple[pd.DataFrame | None, list[str]]:
    """A run's ``results.csv`` as ``pandas.read_csv(csv_path, **options)`` reads it, and a
    note for each thing it lacked; None when no row is left. Nothing raises: an empty,
    header-only or unreadable file reads as no rows, a row cut short (fewer fields than the
    header) is left out, and cells recorded in the ``cells.jsonl`` beside it that have no row
    get theirs rebuilt from their records, as the run builds its table."""
    import pandas as pd

    notes: list[str] = []
    frame: pd.DataFrame | None = None
    try:
        frame = pd.read_csv(csv_path, **options)
    except pd.errors.EmptyDataError:
        notes.append(f"{csv_path}: empty file, no rows")
    except (OSError, ValueError) as exc:  # pandas' ParserError is a ValueError
        notes.append(f"{csv_path}: unreadable CSV ({exc.__class__.__name__}: {exc})")
    if frame is not None:
        cut = [i for i in short_rows(csv_path) if i < len(frame)]
        if cut:
            frame = frame.drop(index=frame.index[cut])
            notes.append(f"{csv_path}: {len(cut)} row(s) cut short (file truncated?), left out")
        elif frame.empty:
            notes.append(f"{csv_path}: header only, no rows")
    frame = _with_recorded_rows(frame, csv_path.parent, options, notes)
    return (frame if frame is not None and not frame.empty else None), notes


def _with_recorded_rows(
    frame: pd.DataFrame | None, run_dir: Path, options: dict[str, Any], notes: list[str]
) -> pd.DataFrame | None:
    """``frame`` with a row rebuilt (``table_from_records``) for every cell of the run's
    cells.jsonl that has none in it, and a note saying so."""
    import io

    import pandas as pd

    try:
        records = read_records(run_dir / CELLS_FILE)
    except OSError:  # the report names a cells.jsonl it cannot read (reports.integrity)
        return frame
    if frame is not None and "cell_id" not in frame:
        return frame  # rows that cannot be told apart: nothing to match the records with
    have = set() if frame is None else set(frame["cell_id"].astype(str))
    lost = {str(r.get("cell_id")) for r in records} - have
    if not lost:
        return frame
    lacking = (
        f"{run_dir}: {len(lost)} of {len(records)} measured cell(s) have no row in "
        f"{RESULTS_FILE} (truncated or stale table)"
    )
    try:
        rebuilt = table_from_records(run_dir, records)
    except (KeyError, TypeError, ValueError) as exc:
        notes.append(
            f"{lacking}; their records could not rebuild them ({exc.__class__.__name__}: "
            f"{exc}), left out"
        )
        return frame
    rebuilt = pd.read_csv(io.StringIO(rebuilt.to_csv(index=False)), **options)
    rebuilt = rebuilt[rebuilt["cell_id"].astype(str).isin(lost)]
    notes.append(
        f"{lacking}; their rows are rebuilt from {CELLS_FILE} "
        f"('archive-bench run --resume {run_dir}' rewrites the file)"
    )
    if frame is None or frame.empty:
        return rebuilt.reset_index(drop=True)
    return pd.concat([frame, rebuilt], ignore_index=True)


def find_result_files(paths: Iterable[Path]) -> list[Path]:
    """Every results.csv at or below the given files or folders."""
    found: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_file() and path.name == RESULTS_FILE:
            found.append(path)
        elif path.is_dir():
            found.extend(sorted(p for p in path.rglob(RESULTS_FILE) if ".fixtures" not in p.parts))
    return found


def load_results(paths: Iterable[Path], notes: list[str] | None = None) -> pd.DataFrame:
    """All tables found under ``paths``, concatenated (empty frame when none), each row with
    the code its run measured (``bench.newest_code.add_code_columns``). Each is read by
    ``read_run_table``; what it notes (a table with no rows, left out; rows cut short or
    lost) goes to ``notes``, or is logged as a warning without it."""
    import pandas as pd

    from bench.newest_code import CODE_COLUMNS, add_code_columns
    from bench.runner import read_json

    build_missing_tables(paths)
    frames = []
    for csv_path in find_result_files(paths):
        frame, found = read_run_table(
            csv_path,
            keep_default_na=False,
            na_values={c: [""] for c in COLUMNS if c not in TEXT_COLUMNS},
            dtype={c: str for c in TEXT_COLUMNS},
        )
        if notes is not None:
            notes.extend(found)
        for note in found if notes is None else []:
            logger.warning("%s", note)
        if frame is None:
            continue
        if "machine_key" not in frame or (frame["machine_key"] == "").all():
            # a table written before machine keys: its platform is the best name it has
            frame["machine_key"] = frame["platform_key"]
        frame["_run_dir"] = str(csv_path.parent)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=[*COLUMNS, "_run_dir", *CODE_COLUMNS])
    table = pd.concat(frames, ignore_index=True)
    folders = table["_run_dir"].unique()
    return add_code_columns(table, {f: read_json(Path(f) / RUN_FILE) for f in folders})
