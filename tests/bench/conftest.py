"""Shared helpers for the bench tests: synthetic cell records and small real trees."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLES = Path(__file__).resolve().parent / "samples"


def make_record(
    operation="create",
    fmt="tar.gz",
    workload="medium",
    variant="parallel",
    threads=2,
    batch=50,
    median=1.0,
    n=12,
    spread=0.01,
    seed=0,
    valid=True,
    heap=10_000_000,
    files=100,
    scale=1.0,
    backend="zlib",
    **extra,
):
    """A cells.jsonl record with raw values around ``median``."""
    from bench.grid import NO_BATCH, Cell

    rng = np.random.default_rng(seed)
    values = (median * (1 + spread * rng.standard_normal(n))).tolist()
    if variant != "parallel":
        batch = NO_BATCH
    cell = Cell(operation, fmt, workload, scale, variant, threads, batch, backend)
    record = {
        **cell.to_dict(),
        "values": values,
        "pyperf_warnings": [],
        "pyperf_json": f"pyperf/{cell.cell_id}.json",
        "valid": valid,
        "invalid_reason": "" if valid else "extraction did not match the manifest",
        "bytes_processed": 15_000_000,
        "files_processed": files,
        "memory_source": "memray",
        "peak_rss_bytes": heap * 3,
        "peak_heap_bytes": heap,
        "throttled": False,
    }
    record.update(extra)
    return record


FINGERPRINT = {
    "platform_key": "linux-x86_64",
    "platform_label": "Test CPU (Linux x86_64)",
    "machine": "testbox",
    "machine_key": "testbox-4c",
    "cores_usable": 4,
}


@pytest.fixture
def record():
    """Factory of synthetic cells.jsonl records (see ``make_record``)."""
    return make_record


@pytest.fixture
def fingerprint():
    return dict(FINGERPRINT)


@pytest.fixture
def samples():
    return SAMPLES


@pytest.fixture
def subprocess_env():
    """Environment for running ``python -m bench`` from the repo in a subprocess."""
    env = dict(os.environ)
    paths = [str(REPO), *[p for p in sys.path if p and "site-packages" not in p]]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


@pytest.fixture
def small_tree(tmp_path):
    """A small tree of real files (no fixtures_gen needed)."""
    root = tmp_path / "tree"
    for i in range(25):
        sub = root / f"d{i % 3}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"f{i}.txt").write_bytes((f"line {i}\n" * (50 + i * 40)).encode())
    (root / ".DS_Store").write_bytes(b"junk")
    return root


@pytest.fixture
def no_system_temp(tmp_path, monkeypatch):
    """The system's temporary folder made unusable (and ``ARCHIVE_BENCH_SCRATCH`` unset), so
    a side tool that writes anywhere but where it was pointed fails."""
    monkeypatch.delenv("ARCHIVE_BENCH_SCRATCH", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-system-temp"))


@pytest.fixture
def tool_scratch(tmp_path, monkeypatch):
    """A side tool's measuring place: ``ARCHIVE_BENCH_SCRATCH`` set to a new folder (returned),
    and the working folder moved to ``tmp_path`` so the fixture cache goes under its
    ``./results``."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setenv("ARCHIVE_BENCH_SCRATCH", str(scratch))
    monkeypatch.chdir(tmp_path)
    return scratch
