"""A sweep on a machine without an optional package: its cells are recorded as not
measured, with the package to install, and no worker process is started for them."""

from __future__ import annotations

import math
import sys

import pytest

pytest.importorskip("fixtures_gen")
pd = pytest.importorskip("pandas")


def test_a_cell_whose_package_is_missing_is_recorded_as_not_measured(tmp_path, monkeypatch):
    from bench.results import read_records
    from bench.runner import run_sweep
    from tests.bench.sweep_support import tiny_sweep_options

    monkeypatch.setenv("ARCHIVE_BENCH_FIXTURES", str(tmp_path / "fixtures"))
    monkeypatch.setitem(sys.modules, "zlib_ng", None)  # as if zlib-ng were not installed
    opts = tiny_sweep_options(tmp_path / "results", "no-zlib-ng", backends=("zlib-ng",))
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
