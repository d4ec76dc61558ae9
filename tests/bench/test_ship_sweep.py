"""A sweep on a machine without an optional package: its cells are recorded as not
measured, with the package to install, and no worker process is started for them."""

from __future__ import annotations

import math
import sys

import pytest

pytest.importorskip("fixtures_gen")
pd = pytest.importorskip("pandas")


def test_a_cell_whose_package_is_missing_is_recorded_as_not_measured(tmp_path, monkeypatch):
    from bench.grid import PRESETS, GridSpec, TimingSettings, Workload
    from bench.results import read_records
    from bench.runner import RunOptions, run_sweep

    monkeypatch.setenv("ARCHIVE_BENCH_FIXTURES", str(tmp_path / "fixtures"))
    monkeypatch.setitem(sys.modules, "zlib_ng", None)  # as if zlib-ng were not installed
    grid = GridSpec(
        operations=("create", "extract"),
        formats=("tar.gz",),
        workloads=(Workload("small", 0.05),),
        threads=(2,),
        batch_sizes=(50,),
        batch_operations=(),
        backends=("zlib-ng",),
        include_sequential=False,
        include_reference=False,
        include_pigz=False,
    )
    opts = RunOptions(
        preset=PRESETS["codecs"],
        grid=grid,
        timing=TimingSettings(processes=1, values=1, warmups=0),
        results_root=tmp_path / "results",
        memory="rusage",
        machine="no-zlib-ng",
        progress=False,
    )
    run_dir = run_sweep(opts)

    records = read_records(run_dir / "cells.jsonl")
    assert {r["operation"] for r in records} == {"create", "extract"}
    for record in records:
        assert record["valid"] is False and record["values"] == []
        assert record["invalid_reason"] == (
            "not measured: zlib-ng is not installed here (pip install zlib-ng)"
        )
    assert not (run_dir / "pyperf").exists()  # no timing process was started
    table = pd.read_csv(run_dir / "results.csv", keep_default_na=False)
    assert set(table["invalid_reason"]) == {records[0]["invalid_reason"]}
    assert all(math.isnan(float(v or "nan")) for v in table["output_bytes"])
