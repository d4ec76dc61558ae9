"""The results table: one tidy row per measured cell, built from a run's ``cells.jsonl``.

``COLUMNS`` below is the documentation of every column (the contract with ``reports/``, see
RESULTS_SCHEMA.md); ``build_table`` computes them from the raw records the runner appended
(raw pyperf values, memory, verification), so a table can always be rebuilt, and
``write_table`` saves ``results.csv`` and ``results.json`` (records). ``load_results`` finds
every ``results.csv`` under the given folders, so runs from several machines merge by
``platform_key`` simply by sitting in one results root.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)

#: column -> meaning; the order is the order in the files
COLUMNS: dict[str, str] = {
    "run_id": "the run folder name, e.g. 20261129-231500-quick",
    "platform_key": "machine key for files, e.g. raspberry-pi-4, macos-arm64, linux-x86_64",
    "platform_label": "machine for people, e.g. 'Raspberry Pi 4 Model B Rev 1.4'",
    "cell_id": "stable id of the cell, safe as a file name (joins runs in compare)",
    "operation": "create, extract, verify, checksum or walk",
    "format": "tar.gz, tar.bz2, tar.xz, tar, zip; '' for checksum and walk",
    "workload": "fixtures_gen profile name",
    "scale": "fixtures_gen scale",
    "variant": "parallel, sequential (library, parallel off), reference (old-style loop), pigz",
    "threads": "thread_pool_size (pigz -p N for pigz; 1 for sequential/reference)",
    "batch_size": "parallel_batch_size; 0 where it does not apply (baselines, pigz)",
    "backend": "zlib or zlib-ng (compression_backend)",
    "samples": "number of timing values (pyperf values over all worker processes)",
    "median_s": "median seconds per operation",
    "mean_s": "mean seconds per operation",
    "stdev_s": "sample standard deviation of the seconds",
    "min_s": "fastest value",
    "max_s": "slowest value",
    "speedup": "sequential median / this median, same operation/format/workload/backend",
    "speedup_ci_low": "95% bootstrap interval of speedup, low end",
    "speedup_ci_high": "95% bootstrap interval of speedup, high end",
    "speedup_vs_reference": "reference median / this median",
    "speedup_vs_reference_ci_low": "its 95% interval, low end",
    "speedup_vs_reference_ci_high": "its 95% interval, high end",
    "efficiency": "speedup / threads",
    "verdict_2x": "meets (ci_low >= 2), misses (ci_high < 2), inconclusive; '' for baselines",
    "verdict_4x": "the same against 4",
    "peak_rss_bytes": "peak RSS of the memory run's process (NaN if not measured)",
    "peak_heap_bytes": "memray peak heap (NaN when memray is unavailable)",
    "memory_delta_bytes": "peak (heap, or RSS in fallback) minus the sequential cell's peak",
    "memory_source": "memray, or rusage when memray could not run; '' when not measured "
    "(pigz runs as an external program)",
    "bytes_processed": "uncompressed bytes of the workload",
    "files_processed": "files of the workload",
    "throughput_mb_s": "bytes_processed / median_s / 1e6",
    "valid": "output verified (archive extracted and matched / tree matched the manifest)",
    "invalid_reason": "why not valid",
    "noisy": "pyperf stability warnings (besides 'not enough samples'), or rel. stdev > 10%",
    "noise_note": "the warnings",
    "throttled": "a Raspberry Pi was throttled during the cell",
    "emulated": "measured under an emulator (qemu-user, Rosetta; the fingerprint says which): "
    "such cells decide no verdict and no tuned profile",
    "serial_fraction": "Amdahl serial fraction of this cell's scaling curve "
    "(operation, format, workload, batch_size, backend); NaN when not estimable",
    "pyperf_json": "pyperf's JSON, relative to the run folder, or ''",
    "flamegraph": "memray flamegraph HTML, relative to the run folder, or ''",
}

BASELINE_VARIANTS = ("sequential", "reference")
#: columns read back as strings, with '' kept as ''
TEXT_COLUMNS = (
    "run_id",
    "platform_key",
    "platform_label",
    "cell_id",
    "operation",
    "format",
    "workload",
    "variant",
    "backend",
    "verdict_2x",
    "verdict_4x",
    "memory_source",
    "invalid_reason",
    "noise_note",
    "pyperf_json",
    "flamegraph",
)
GROUP_KEYS = ["operation", "format", "workload", "scale"]


def read_records(cells_jsonl: Path) -> list[dict[str, Any]]:
    """Records of completed cells; a torn last line (killed mid-write) is ignored."""
    records: dict[str, dict[str, Any]] = {}
    if not cells_jsonl.exists():
        return []
    with open(cells_jsonl, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                logger.warning("ignoring a torn line in %s", cells_jsonl)
                continue
            records[record["cell_id"]] = record
    return list(records.values())


def _ratio(
    base: dict[str, Any] | None, record: dict[str, Any], seed: int
) -> tuple[float, float, float]:
    from bench import stats

    if base is None or not base.get("valid") or not record.get("valid"):
        return (math.nan, math.nan, math.nan)
    return stats.bootstrap_ratio_ci(base["values"], record["values"], seed=seed)


def _peak(record: dict[str, Any] | None) -> float:
    if record is None:
        return math.nan
    heap = record.get("peak_heap_bytes")
    if heap is not None and record.get("memory_source") == "memray":
        return float(heap)
    rss = record.get("peak_rss_bytes")
    return float(rss) if rss is not None else math.nan


def _num(value: Any) -> float:
    return math.nan if value is None else float(value)


def build_table(
    records: Iterable[dict[str, Any]], run_id: str, fingerprint: dict[str, Any]
) -> pd.DataFrame:
    """The tidy table of one run (columns exactly ``COLUMNS``)."""
    import pandas as pd

    from bench import stats

    records = list(records)
    by_key: dict[tuple, dict[str, Any]] = {}
    for r in records:
        if r["variant"] in BASELINE_VARIANTS:
            backend = r["backend"] if r["variant"] == "sequential" else ""
            key = (r["variant"], r["operation"], r["format"], r["workload"], r["scale"], backend)
            by_key[key] = r
    rows = []
    for i, r in enumerate(sorted(records, key=lambda rec: rec["cell_id"])):
        group = (r["operation"], r["format"], r["workload"], r["scale"])
        seq = by_key.get(("sequential", *group, r["backend"])) or by_key.get(
            ("sequential", *group, "zlib")
        )
        ref = by_key.get(("reference", *group, ""))
        seed = stats.DEFAULT_SEED + i
        speedup, lo, hi = _ratio(seq, r, seed)
        vs_ref, rlo, rhi = _ratio(ref, r, seed + 7919)
        summary = stats.summarize(r["values"])
        noisy, note = stats.noise_flags(r["values"], r.get("pyperf_warnings", []))
        baseline = r["variant"] in BASELINE_VARIANTS
        emulated = bool(fingerprint.get("emulated"))
        threads = int(r["threads"])
        delta = _peak(r) - _peak(seq) if seq is not None else math.nan
        median = summary["median_s"]
        rows.append(
            {
                "run_id": run_id,
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
                "speedup": speedup,
                "speedup_ci_low": lo,
                "speedup_ci_high": hi,
                "speedup_vs_reference": vs_ref,
                "speedup_vs_reference_ci_low": rlo,
                "speedup_vs_reference_ci_high": rhi,
                "efficiency": speedup / threads if threads else math.nan,
                "verdict_2x": "" if baseline or emulated else stats.verdict(lo, hi, 2.0),
                "verdict_4x": "" if baseline or emulated else stats.verdict(lo, hi, 4.0),
                "peak_rss_bytes": _num(r.get("peak_rss_bytes")),
                "peak_heap_bytes": _num(r.get("peak_heap_bytes")),
                "memory_delta_bytes": delta,
                "memory_source": r.get("memory_source", ""),
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
    table.to_csv(run_dir / "results.csv", index=False)
    records = json.loads(table.to_json(orient="records"))
    (run_dir / "results.json").write_text(json.dumps(records, indent=1), encoding="utf-8")


def build_missing_tables(paths: Iterable[Path]) -> list[Path]:
    """Write ``results.csv`` for every run folder below ``paths`` that has measured cells but
    no table: a sweep on a machine without the report extra (a 32-bit Pi has no pandas wheels)
    leaves only ``cells.jsonl``, and the table is built wherever the results are read."""
    built = []
    for path in paths:
        path = Path(path)
        if not path.is_dir():
            continue
        for cells in sorted(path.rglob("cells.jsonl")):
            run_dir = cells.parent
            if (run_dir / "results.csv").exists() or ".fixtures" in run_dir.parts:
                continue
            try:
                fingerprint = json.loads((run_dir / "fingerprint.json").read_text("utf-8"))
            except (OSError, ValueError):
                fingerprint = {}
            write_table(build_table(read_records(cells), run_dir.name, fingerprint), run_dir)
            built.append(run_dir)
    return built


def find_result_files(paths: Iterable[Path]) -> list[Path]:
    """Every results.csv at or below the given files or folders."""
    found: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_file() and path.name == "results.csv":
            found.append(path)
        elif path.is_dir():
            found.extend(sorted(p for p in path.rglob("results.csv") if ".fixtures" not in p.parts))
    return found


def load_results(paths: Iterable[Path]) -> pd.DataFrame:
    """All tables found under ``paths``, concatenated (empty frame when none)."""
    import pandas as pd

    build_missing_tables(paths)
    frames = []
    for csv in find_result_files(paths):
        text_columns = (*TEXT_COLUMNS,)
        frame = pd.read_csv(
            csv,
            keep_default_na=False,
            na_values={c: [""] for c in COLUMNS if c not in text_columns},
            dtype={c: str for c in text_columns},
        )
        frame["_run_dir"] = str(csv.parent)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=[*COLUMNS, "_run_dir"])
    return pd.concat(frames, ignore_index=True)


def finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False
