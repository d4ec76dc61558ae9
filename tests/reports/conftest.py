"""Synthetic results folders, written the way bench writes them (docs/results-schema.md).

Tests build real files on disk (results.csv, fingerprint.json, run.json, tuned.json) and let
the reader find them, so loading is tested along with everything after it.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pandas as pd
import pytest

from bench.results import COLUMNS as BENCH_COLUMNS

#: the columns in the order bench writes them (the reports package never imports bench, its
#: tests may: they then write exactly what bench writes)
COLUMNS = list(BENCH_COLUMNS)

LABELS = {
    "raspberry-pi-4": "Raspberry Pi 4 Model B Rev 1.4",
    "macos-arm64": "Apple M4 (macOS 15.1)",
}
#: usable cores of the synthetic machines
CORES = {"raspberry-pi-4": 4, "macos-arm64": 10}


def cores_of(key: str) -> int:
    return CORES.get(key, CORES.get(key.split("/")[0], 2))


def _verdict(low: float, high: float, target: float) -> str:
    if math.isnan(low) or math.isnan(high):
        return "inconclusive"
    return "meets" if low >= target else "misses" if high < target else "inconclusive"


def make_row(
    platform_key: str = "raspberry-pi-4",
    operation: str = "create",
    fmt: str = "tar.gz",
    workload: str = "small",
    variant: str = "parallel",
    threads: int = 4,
    batch_size: int = 32,
    backend: str = "zlib",
    speedup: float = 2.0,
    ci: tuple[float, float] | None = None,
    valid: bool = True,
    **overrides,
) -> dict:
    """One results row; speedup and interval drive the verdict columns like bench does."""
    if variant != "parallel":
        speedup, ci = 1.0, (1.0, 1.0)
    low, high = ci if ci is not None else (speedup * 0.92, speedup * 1.08)
    median = 1.2 / speedup if speedup == speedup else 1.0
    cell_id = f"{operation}-{fmt or 'none'}-{workload}-{variant}-t{threads}-b{batch_size}"
    cores = overrides.pop("cores_usable", cores_of(platform_key))
    vs_ref = overrides.pop("vs_ref", None)
    # by default the old way takes as long as the library's sequential path
    ref_low, ref_high = (low, high) if vs_ref is None else vs_ref
    ref_point = speedup if vs_ref is None else (vs_ref[0] + vs_ref[1]) / 2
    row = {
        "schema_version": 2,
        "run_id": "20261129-231500-quick",
        "machine": "",
        "machine_key": platform_key,
        "cores_usable": cores,
        "platform_key": platform_key,
        "platform_label": LABELS.get(platform_key, platform_key),
        "cell_id": cell_id.replace(".", "_"),
        "operation": operation,
        "format": fmt,
        "workload": workload,
        "scale": 1.0,
        "variant": variant,
        "threads": threads if variant == "parallel" else 1,
        "batch_size": batch_size,
        "backend": backend,
        "samples": 5,
        "median_s": median,
        "mean_s": median * 1.01,
        "stdev_s": median * 0.03,
        "min_s": median * 0.97,
        "max_s": median * 1.05,
        "speedup": speedup,
        "speedup_ci_low": low,
        "speedup_ci_high": high,
        "median_interval_share": 0.05,
        "speedup_vs_reference": ref_point if variant != "reference" else 1.0,
        "speedup_vs_reference_ci_low": ref_low if variant != "reference" else 1.0,
        "speedup_vs_reference_ci_high": ref_high if variant != "reference" else 1.0,
        "efficiency": speedup / max(min(threads, cores), 1),
        "verdict_baseline": "reference" if variant == "parallel" else "",
        "verdict_2x": _verdict(ref_low, ref_high, 2.0) if variant == "parallel" else "",
        "verdict_4x": _verdict(ref_low, ref_high, 4.0) if variant == "parallel" else "",
        "regression": variant != "reference" and valid and ref_high < 1.0,
        "oversubscribed": variant == "parallel" and threads > cores,
        "suspect_note": "",
        "peak_rss_bytes": 40e6 + threads * 2.1e6,
        "peak_heap_bytes": 8e6 + threads * 2e6 * (batch_size / 32),
        "memory_delta_bytes": 0.0 if variant != "parallel" else threads * 2e6 * (batch_size / 32),
        "memory_source": "memray",
        "memory_budget_verdict": "within" if variant == "parallel" else "",
        "bytes_processed": 50_000_000,
        "files_processed": 120,
        "throughput_mb_s": 50 / median,
        "valid": valid,
        "invalid_reason": "" if valid else "extracted tree differs from manifest",
        "noisy": False,
        "noise_note": "",
        "throttled": False,
        "serial_fraction": 0.1,
        "pyperf_json": "",
        "flamegraph": "",
    }
    row.update(overrides)
    return row


def fingerprint_for(platform_key: str) -> dict:
    is_pi = platform_key.startswith("raspberry")
    return {
        "machine_key": platform_key,
        "cores_usable": cores_of(platform_key),
        "platform_key": platform_key,
        "platform_label": LABELS.get(platform_key, platform_key),
        "os": "Linux" if is_pi else "Darwin",
        "os_version": "6.6.51+rpt-rpi-v8" if is_pi else "15.1",
        "arch": "aarch64" if is_pi else "arm64",
        "cpu_model": "Cortex-A72" if is_pi else "Apple M4",
        "cores_logical": 4 if is_pi else 10,
        "cores_performance": None if is_pi else 4,
        "cores_efficiency": None if is_pi else 6,
        "memory_bytes": 4 * 2**30 if is_pi else 16 * 2**30,
        "python_version": "3.11.2",
        "python_implementation": "CPython",
        "python_build": "main, Mar 13 2023",
        "storage": {
            "path": "/home/pi/results",
            "filesystem": "ext4" if is_pi else "apfs",
            "device": "/dev/mmcblk0p2" if is_pi else "disk3s1",
            "is_sd_card": is_pi,
        },
        "is_raspberry_pi": is_pi,
        "pi_model": "Raspberry Pi 4 Model B Rev 1.4" if is_pi else None,
        "temperature_c_before": 48.3 if is_pi else None,
        "temperature_c_after": 61.2 if is_pi else None,
        "throttled_before": "0x0" if is_pi else None,
        "throttled_after": "0x0" if is_pi else None,
        "throttled_flags_after": [] if is_pi else None,
        "hostname": "pi4" if is_pi else "mac",
        "collected_at": "2026-11-29T23:15:00Z",
    }


def write_run(
    root: Path,
    rows: list[dict],
    platform_key: str = "raspberry-pi-4",
    run_id: str = "20261129-231500-quick",
    fingerprint: bool = True,
    complete: bool = True,
    columns: list[str] | None = None,
) -> Path:
    """Write results.csv/json, fingerprint.json and run.json into root/platform/run_id."""
    folder = root / platform_key / run_id
    folder.mkdir(parents=True)
    table = pd.DataFrame(rows, columns=columns or COLUMNS)
    table.to_csv(folder / "results.csv", index=False)
    table.to_json(folder / "results.json", orient="records")
    if fingerprint:
        (folder / "fingerprint.json").write_text(json.dumps(fingerprint_for(platform_key)))
    run = {
        "run_id": run_id,
        "preset": run_id.rsplit("-", 1)[-1],
        "started_at": "2026-11-29T23:15:00Z",
        "finished_at": "2026-11-29T23:45:00Z" if complete else None,
        "argv": ["archive-bench", "run", "--preset", "quick"],
        "complete": complete,
    }
    (folder / "run.json").write_text(json.dumps(run))
    return folder


def write_tuned(root: Path, platform_key: str, threads: int, batch: int) -> Path:
    path = root / platform_key / "tuned.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "platform_key": platform_key,
                "platform_label": LABELS.get(platform_key, platform_key),
                "settings": {
                    "thread_pool_size": threads,
                    "parallel_batch_size": batch,
                    "parallel_threshold": 8,
                },
                "best_speedup": 3.4,
                "chosen_speedup": 3.1,
                "explanation": f"{threads} threads reach 90% of the best speedup within budget",
                "source_runs": ["20261129-231500-quick"],
                "memory_budget_bytes": 256 * 2**20,
            }
        )
    )
    return path


def verdict_rows(platform_key: str = "raspberry-pi-4") -> list[dict]:
    """Four groups with known answers, an invalid cell and baselines.

    create/tar.gz: 3.0 [2.5, 3.4] -> 2x meets, 4x misses
    extract/zip:   1.5 [1.3, 1.7] -> misses both (an invalid 8.0 cell must be ignored)
    checksum/'':   2.1 [1.8, 2.4] -> 2x inconclusive, 4x misses
    verify/tar.xz: 4.5 [4.1, 4.9] -> meets both
    """
    p = platform_key
    return [
        make_row(p, "create", "tar.gz", variant="sequential"),
        make_row(p, "create", "tar.gz", variant="reference"),
        make_row(p, "create", "tar.gz", threads=2, speedup=1.8, ci=(1.6, 1.95)),
        make_row(p, "create", "tar.gz", threads=4, speedup=3.0, ci=(2.5, 3.4)),
        make_row(p, "extract", "zip", variant="sequential"),
        make_row(p, "extract", "zip", threads=2, speedup=1.5, ci=(1.3, 1.7)),
        make_row(p, "extract", "zip", threads=4, speedup=8.0, ci=(7.5, 8.5), valid=False),
        make_row(p, "checksum", "", threads=4, speedup=2.1, ci=(1.8, 2.4)),
        make_row(p, "verify", "tar.xz", threads=4, speedup=4.5, ci=(4.1, 4.9)),
    ]


def sweep_rows(platform_key: str, cores: int, seed: int = 1) -> list[dict]:
    """A plausible full sweep: Amdahl-shaped scaling over threads and batch sizes."""
    rng = random.Random(seed)
    serial = {"create": 0.12, "extract": 0.35, "verify": 0.3, "checksum": 0.2}
    formats = {
        "create": ["tar.gz", "zip"],
        "extract": ["tar.gz", "zip"],
        "verify": ["tar.gz"],
        "checksum": [""],
    }
    thread_counts = [t for t in (1, 2, 4, 8) if t <= max(cores, 4)]
    rows = []
    for operation, fmts in formats.items():
        for fmt in fmts:
            for workload in ("small", "many-tiny"):
                s = serial[operation] * (1.8 if workload == "many-tiny" else 1.0)
                rows.append(make_row(platform_key, operation, fmt, workload, "sequential"))
                rows.append(make_row(platform_key, operation, fmt, workload, "reference"))
                for threads in thread_counts:
                    for batch in (8, 32, 128):
                        effective = min(threads, cores)
                        ideal = 1 / (s + (1 - s) / effective)
                        factor = {8: 0.85, 32: 1.0, 128: 0.97}[batch]
                        speedup = ideal * factor * rng.uniform(0.95, 1.05)
                        spread = rng.uniform(0.04, 0.15)
                        rows.append(
                            make_row(
                                platform_key,
                                operation,
                                fmt,
                                workload,
                                "parallel",
                                threads,
                                batch,
                                speedup=speedup,
                                ci=(speedup * (1 - spread), speedup * (1 + spread)),
                                noisy=spread > 0.13,
                                noise_note="relative stdev 14%" if spread > 0.13 else "",
                            )
                        )
    return rows


def machine_rows(key: str, cores: int, platform: str = "macos-arm64", **extra) -> list:
    """create tar.gz: 1.9x vs the old way at 2 threads, 2.0x at 4; extract zip: sequential
    path slower than the old way (a regression)."""
    p = platform
    common = {"machine_key": key, "machine": key.rsplit("-", 1)[0], "cores_usable": cores}
    common.update(extra)
    par = {**common, "verdict_4x": "beyond this machine" if cores < 4 else "misses"}
    return [
        make_row(p, "create", "tar.gz", variant="sequential", **common),
        make_row(p, "create", "tar.gz", variant="reference", **common),
        make_row(p, "create", "tar.gz", threads=2, speedup=1.9, ci=(1.8, 2.0), **par),
        make_row(p, "create", "tar.gz", threads=4, speedup=1.95, ci=(1.85, 2.05), **par),
        make_row(
            p,
            "extract",
            "zip",
            variant="sequential",
            vs_ref=(0.49, 0.57),
            cell_id="extract-zip-medium-sequential",
            **common,
        ),  # fmt: skip
        make_row(p, "extract", "zip", variant="reference", **common),
        make_row(p, "extract", "zip", threads=2, speedup=1.5, ci=(1.4, 1.6), **par),
    ]


def machine_fingerprint(key: str, cores: int, host: str) -> dict:
    return {
        **fingerprint_for("macos-arm64"),
        "machine": key.rsplit("-", 1)[0],
        "machine_key": key,
        "cores_usable": cores,
        "hostname": host,
    }


def write_machine(root: Path, key: str, cores: int, run_id: str, **extra) -> Path:
    folder = write_run(root, machine_rows(key, cores, **extra), key, run_id)
    (folder / "fingerprint.json").write_text(
        json.dumps(machine_fingerprint(key, cores, key.split("-")[0]))
    )
    return folder


@pytest.fixture
def verdict_root(tmp_path: Path) -> Path:
    root = tmp_path / "results"
    write_run(root, verdict_rows("raspberry-pi-4"), "raspberry-pi-4")
    return root


@pytest.fixture
def two_platform_root(tmp_path: Path) -> Path:
    root = tmp_path / "results"
    write_run(root, sweep_rows("raspberry-pi-4", 4), "raspberry-pi-4")
    write_run(root, sweep_rows("macos-arm64", 10, seed=2), "macos-arm64", "20261130-101500-quick")
    write_tuned(root, "raspberry-pi-4", 4, 32)
    return root


@pytest.fixture(scope="session")
def built_report(tmp_path_factory) -> Path:
    """The two-platform sweep rendered once (charts are the slow part), shared by tests."""
    from reports import build_report

    root = tmp_path_factory.mktemp("sweep") / "results"
    write_run(root, sweep_rows("raspberry-pi-4", 4), "raspberry-pi-4")
    mac = write_run(
        root, sweep_rows("macos-arm64", 10, seed=2), "macos-arm64", "20261130-101500-quick"
    )
    write_run(root, verdict_rows("linux-x86_64"), "linux-x86_64", "20261130-120000-quick")
    write_tuned(root, "raspberry-pi-4", 4, 32)
    (mac / "pyperf").mkdir()
    (mac / "pyperf" / "cell.json").write_text("{}")
    (mac / "memray").mkdir()
    (mac / "memray" / "cell.html").write_text("<html></html>")
    table = pd.read_csv(mac / "results.csv", keep_default_na=False)
    table["pyperf_json"] = "pyperf/cell.json"
    table["flamegraph"] = "memray/cell.html"
    table.to_csv(mac / "results.csv", index=False)
    return build_report([root], root.parent / "out" / "report.html")


@pytest.fixture(scope="session")
def ship_sweep_root(tmp_path_factory) -> Path:
    """A tiny real ``--codecs``-style sweep (tar.gz, tar.zst and a ``tar czf`` archive, 50 KB
    of files, one timing value per cell) on a machine where zlib-ng is blocked, as if it were
    not installed: the what-to-ship table's rows, measured and not measured."""
    import sys

    pytest.importorskip("fixtures_gen")
    from bench.runner import run_sweep
    from tests.bench.sweep_support import tiny_sweep_options

    base = tmp_path_factory.mktemp("ship-sweep")
    opts = tiny_sweep_options(
        base / "results",
        "shipbox",
        formats=("tar.gz", "tar.zst", "tar.gz+tar"),
        backends=("zlib", "zlib-ng"),
        include_reference=True,
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ARCHIVE_BENCH_FIXTURES", str(base / "fixtures"))
        patch.setitem(sys.modules, "zlib_ng", None)  # blocks the import: "not installed"
        run_sweep(opts)
    return base / "results"


def codec_record(op, fmt, variant, backend, median, **extra):
    """A raw cells.jsonl record of a medium cell whose five values lie around ``median``."""
    from bench.grid import NO_BATCH, Cell

    parallel = variant == "parallel"
    cell = Cell(op, fmt, "medium", 1.0, variant, 2 if parallel else 1,
                50 if parallel else NO_BATCH, backend)  # fmt: skip
    return {
        **cell.to_dict(),
        "values": [median * f for f in (0.98, 1.0, 1.01, 0.99, 1.02)],
        "pyperf_warnings": [],
        "valid": True,
        "invalid_reason": "",
        "bytes_processed": 150_000_000,
        "files_processed": 1000,
        "memory_source": "rusage",
        "peak_rss_bytes": 60 * 2**20,
        "output_bytes": 74_000_000 if op == "create" else None,
        **extra,
    }


def write_targets_run(root: Path, run_id: str, zst_median: float, library, **measured) -> Path:
    """A run of the tar.zst target's two cells, side by side, filed with ``library``;
    ``measured`` overrides fields of the measured (tar.zst) cell's record."""
    from bench.results import build_table, write_table

    records = [
        codec_record("create", "tar.zst", "parallel", "zlib", zst_median, **measured),
        codec_record("create", "tar.gz", "reference", "zlib", 1.0),
    ]
    for record, cores in zip(records, (2.0, 1.0)):  # the CPU time: 2 cores busy, and 1
        cpu = [value * cores for value in record["values"]]
        record.update(
            round_group=f"medium-1.0-{run_id}",
            round_contention=[0.0] * 5,
            value_cpu=cpu,
            value_kernel=[spent / 10 for spent in cpu],
        )
    fingerprint = {**fingerprint_for("raspberry-pi-4"), "machine_key": "pi4-4c"}
    run_dir = root / "pi4-4c" / run_id
    run_dir.mkdir(parents=True)
    with open(run_dir / "cells.jsonl", "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")
    (run_dir / "fingerprint.json").write_text(json.dumps(fingerprint))
    run = {"run_id": run_id, "complete": True, "library": library}
    (run_dir / "run.json").write_text(json.dumps(run))
    write_table(build_table(records, run_id, fingerprint), run_dir)
    return run_dir


class Synthetic:
    """The helpers above, handed to tests as a fixture (conftest is not importable by name)."""

    make_row = staticmethod(make_row)
    write_run = staticmethod(write_run)
    write_tuned = staticmethod(write_tuned)
    verdict_rows = staticmethod(verdict_rows)
    sweep_rows = staticmethod(sweep_rows)
    fingerprint_for = staticmethod(fingerprint_for)
    machine_rows = staticmethod(machine_rows)
    codec_record = staticmethod(codec_record)
    write_targets_run = staticmethod(write_targets_run)
    write_machine = staticmethod(write_machine)
    machine_fingerprint = staticmethod(machine_fingerprint)
    columns = COLUMNS


@pytest.fixture
def synth() -> type[Synthetic]:
    return Synthetic
