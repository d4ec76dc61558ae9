"""The codec axes of the grid: formats of other tools, backends per operation, tar.zst cells,
and the codec target table."""

from __future__ import annotations

import json
import math
import re
import sys
import tarfile
import zipfile

import pytest

from bench import codec_axes, codec_targets
from bench.cases import library_config
from bench.grid import PRESETS, GridSpec, expand_grid


def test_other_tools_archives_are_only_read():
    cells = expand_grid(PRESETS["codecs"].grid, pigz=False)
    assert not [c for c in cells if c.operation == "create" and "+" in c.format]
    foreign = {c.format for c in cells if c.operation == "extract" and "+" in c.format}
    assert foreign == set(codec_axes.FOREIGN_FORMATS)
    own = {"tar.gz", "zip", "tar.zst", "tar.bz2", "tar.xz"}
    assert {c.format for c in cells if c.operation == "create"} == own


def test_the_codecs_preset_sweeps_every_choice_a_user_has():
    cells = expand_grid(PRESETS["codecs"].grid, pigz=False)
    create = {(c.format, c.backend) for c in cells if c.operation == "create"}
    assert {("tar.gz", b) for b in ("zlib", "zlib-ng", "isal")} <= create
    assert {("zip", b) for b in ("zlib", "zlib-ng", "isal")} <= create
    read = {(c.format, c.backend) for c in cells if c.operation == "extract"}
    assert ("tar.gz+tar", "rapidgzip") in read and ("zip", "rapidgzip") not in read
    # the slow codecs run on the deploy package and the small tree, not the 150 MB one
    slow = {(c.format, c.workload) for c in cells if c.format in ("tar.bz2", "tar.xz")}
    assert {w for _, w in slow} == {"package", "small"}
    assert ("tar.zst", "medium") in {(c.format, c.workload) for c in cells}


def test_format_workloads_survive_a_resume_and_leave_other_digests_alone():
    grid = PRESETS["codecs"].grid
    assert GridSpec.from_dict(json.loads(json.dumps(grid.to_dict()))) == grid
    assert "format_workloads" not in PRESETS["quick"].grid.to_dict()


def test_a_missing_optional_package_is_named(monkeypatch):
    cell = {"operation": "create", "format": "tar.gz", "variant": "parallel", "backend": "isal"}
    assert codec_axes.missing_package(cell) is None
    monkeypatch.setitem(sys.modules, "isal", None)  # blocks the import
    reason = codec_axes.missing_package(cell)
    assert reason.startswith(codec_axes.NOT_MEASURED) and "pip install isal" in reason
    # the old way never uses the backend; formats without a backend axis ignore it
    assert codec_axes.missing_package({**cell, "variant": "reference"}) is None
    assert codec_axes.missing_package({**cell, "format": "tar.xz"}) is None
    for name in ("compression.zstd", "compression", "backports.zstd"):
        monkeypatch.setitem(sys.modules, name, None)
    zst = codec_axes.missing_package({**cell, "format": "tar.zst", "variant": "reference"})
    assert "backports.zstd" in zst


def test_backends_per_operation():
    backends = ("zlib", "isal", "rapidgzip")
    assert codec_axes.backends_for("create", "tar.gz", backends) == ("zlib", "isal")
    assert codec_axes.backends_for("extract", "tar.gz+tar", backends) == backends
    assert codec_axes.backends_for("extract", "zip", backends) == ("zlib", "isal")
    assert codec_axes.backends_for("extract", "tar.zst", backends) == ("zlib",)
    cell = {"variant": "parallel", "threads": 2, "batch_size": 50}
    create = library_config({**cell, "operation": "create", "backend": "isal"})
    assert create.compression_backend == "isal"
    extract = library_config({**cell, "operation": "extract", "backend": "rapidgzip"})
    assert extract.decompression_backend == "rapidgzip" and extract.compression_backend == "zlib"


@pytest.mark.parametrize("fmt", codec_axes.FOREIGN_FORMATS)
def test_build_foreign(tmp_path, fmt):
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "a.txt").write_text("alpha\n" * 100)
    (tree / "b.bin").write_bytes(bytes(range(256)) * 10)
    (tree / ".DS_Store").write_bytes(b"junk")
    target = tmp_path / f"out.{codec_axes.base_format(fmt)}"
    codec_axes.build_foreign(tree, fmt, target, (".DS_Store",))
    if fmt.startswith("zip"):
        with zipfile.ZipFile(target) as archive:
            names = set(archive.namelist())
    else:
        with tarfile.open(target) as archive:
            names = {m.name.removeprefix("./") for m in archive if m.isfile()}
    assert names == {"sub/a.txt", "b.bin"}
    assert not list(tmp_path.glob("*.partial*"))


def record(op, fmt, variant, backend, values, workload="medium"):
    """A valid cells.jsonl record of one cell's timing values."""
    return {
        "operation": op,
        "format": fmt,
        "variant": variant,
        "backend": backend,
        "workload": workload,
        "scale": 1.0,
        "threads": 2 if variant == "parallel" else 1,
        "valid": True,
        "values": values,
    }


def test_targets_table_from_records():
    records = [
        record("create", "tar.zst", "parallel", "zlib", [0.10, 0.11, 0.10, 0.10, 0.11]),
        record("create", "tar.gz", "reference", "zlib", [1.0, 1.1, 1.0, 1.0, 1.1]),
    ]
    rows = {
        r["target"]: r for r in codec_targets.evaluate(records, codec_targets.default_targets())
    }
    zst = rows["create tar.zst (level 3) vs the tar.gz reference loop"]
    assert zst["ratio"] == pytest.approx(10.0) and zst["verdict"] == "meets"
    assert rows["create tar.gz with isal vs the reference loop"]["verdict"] == "absent"


def test_a_ratio_of_too_few_rounds_gets_no_verdict():
    """Three rounds cover the true ratio far less often than 95%: the ratio is shown, no
    interval and no verdict."""
    records = [
        record("create", "tar.zst", "parallel", "zlib", [0.10, 0.11, 0.10]),
        record("create", "tar.gz", "reference", "zlib", [1.0, 1.1, 1.0]),
    ]
    rows = {
        r["target"]: r for r in codec_targets.evaluate(records, codec_targets.default_targets())
    }
    zst = rows["create tar.zst (level 3) vs the tar.gz reference loop"]
    assert zst["ratio"] == pytest.approx(10.0) and zst["verdict"] == codec_targets.TOO_FEW
    assert math.isnan(zst["low"]) and math.isnan(zst["high"])


def test_small_packages_judge_the_sequential_path_and_the_parallel_one_against_it():
    def unpacked(variant, backend, values):
        return record("extract", "zip", variant, backend, values, workload="package")

    records = [
        unpacked("parallel", "isal", [0.30, 0.31, 0.29, 0.30, 0.31]),
        unpacked("sequential", "isal", [0.27, 0.28, 0.27, 0.27, 0.28]),
        unpacked("sequential", "zlib", [9.0] * 5),  # another inflater: never compared
        unpacked("reference", "zlib", [0.36, 0.35, 0.34, 0.35, 0.36]),
    ]
    rows = {
        r["target"]: r for r in codec_targets.evaluate(records, codec_targets.default_targets())
    }
    sequential = rows["package: sequential extract zip vs the reference loop"]
    assert sequential["ratio"] == pytest.approx(0.35 / 0.27) and sequential["at_least"] == 1.0
    against = rows["package: extract zip vs the sequential path"]
    assert against["ratio"] == pytest.approx(0.27 / 0.30) and against["verdict"] == "misses"
    labels = set(rows)
    for profile in ("package", "small"):
        for op in ("create", "extract"):
            for fmt in ("tar.gz", "zip"):
                assert f"{profile}: sequential {op} {fmt} vs the reference loop" in labels
                assert f"{profile}: {op} {fmt} vs the sequential path" in labels
    assert not any("sequential verify" in label for label in labels)


@pytest.mark.parametrize(
    ("zst_bytes", "verdict"), [(990, "meets"), (1000, "meets"), (1020, "misses")]
)
def test_the_tar_zst_size_target_compares_the_created_archives(zst_bytes, verdict):
    def created(fmt: str, variant: str, size: int) -> dict:
        return {
            "operation": "create",
            "format": fmt,
            "variant": variant,
            "backend": "zlib",
            "workload": "medium",
            "output_bytes": size,
        }

    records = [
        created("tar.zst", "parallel", zst_bytes),
        created("tar.gz", "sequential", 1000),
        created("tar.gz", "reference", 900),  # another writer's bytes: never the yardstick
    ]
    (row,) = codec_targets.size_rows(records)
    assert row["workload"] == "medium" and row["verdict"] == verdict
    assert row["ratio"] == pytest.approx(1000 / zst_bytes)
    assert codec_targets.size_rows(records[1:]) == []  # no tar.zst made: nothing to judge


def test_a_side_by_side_measurement_is_filed_for_the_report(
    tmp_path, monkeypatch, capsys, no_system_temp
):
    pytest.importorskip("fixtures_gen")
    pytest.importorskip("pandas")
    monkeypatch.setenv("ARCHIVE_BENCH_FIXTURES", str(tmp_path / "fixtures"))
    results, card = tmp_path / "results", tmp_path / "card"
    card.mkdir()
    argv = ["--measure", "small", "--rounds", "1", "--results", str(results), "--machine", "box"]
    from bench.cases import Case

    runs: list[str] = []
    timed = Case.run
    monkeypatch.setattr(Case, "run", lambda case: (runs.append(case.cell["cell_id"]), timed(case)))
    assert codec_targets.main([*argv, "--dir", str(card)]) == 0
    printed = capsys.readouterr().out
    (run_dir,) = results.glob("box-*/*-interleaved")
    assert f"run filed in {run_dir}" in printed
    # measured where --dir points (the system's temporary folder is unusable here), and said
    place = json.loads((run_dir / "run.json").read_text())["scratch_place"]
    assert place["place"] == str(card) and list(card.iterdir()) == []
    first, second = printed.splitlines()[:2]
    assert first.startswith(f"measured in {card} (")
    # the machine's state around the run: printed, and filed with it
    assert second.startswith("machine before: 2 threads of compression did ")
    assert "\nmachine after: 2 threads of compression did " in printed
    probes = json.loads((run_dir / "run.json").read_text())["parallel_probe"]
    assert set(probes) == {"before", "after"} and probes["after"]["threads"] == 2
    # timed round by round together: one round group, so their intervals pair rounds
    cells = [json.loads(line) for line in (run_dir / "cells.jsonl").read_text().splitlines()]
    (group,) = {cell["round_group"] for cell in cells}
    assert group.startswith("small-")
    # and how busy the machine was in its one round, judged from when asked
    (busy,) = {tuple(cell["round_contention"]) for cell in cells}
    assert len(busy) == 1 and 0 <= busy[0] <= 1
    # an untimed warm-up round first: every case ran twice for its one timed round
    assert {runs.count(cell["cell_id"]) for cell in cells} == {2}
    assert {cell["warmup_rounds"] for cell in cells} == {1}
    # none warmed before each: the small tree needs too little fresh memory for it to matter
    assert {cell["warmed_memory_mib"] for cell in cells} == {0}
    for cell in cells:  # and during each timing, with the CPU time the timing took
        assert len(cell["value_contention"]) == 1 and 0 <= cell["value_contention"][0] <= 1
        (cpu,), (kernel,) = cell["value_cpu"], cell["value_kernel"]
        assert cpu > 0 and 0 <= kernel <= cpu
        (faults,) = cell["value_faults"]  # and the memory it touched for the first time
        assert isinstance(faults, int) and faults >= 0
    assert "[small] other work took " in printed
    assert codec_targets.main([str(run_dir), "--max-contention", "1"]) == 0
    judged = capsys.readouterr().out
    assert "[small] small: create tar.gz vs the reference loop (1 round)" in judged
    # under each target: the cores each side kept busy and the CPU time, from those readings
    lines = judged.splitlines()
    at = next(i for i, x in enumerate(lines) if "small: create tar.gz vs the reference" in x)
    assert re.fullmatch(
        r" {45}\d+\.\d\d cores busy against \d+\.\d\d, \d+\.\d\dx its CPU time "
        r"\(\d+% in the kernel\), [\d,]+ page faults a timing against [\d,]+",
        lines[at + 1],
    )
    assert "[small] small: create tar.gz vs the reference loop" in printed
    for label in ("verify zip", "checksums"):  # every operation a small package goes through
        line = next(x for x in printed.splitlines() if f"[small] small: {label} vs" in x)
        assert "absent" not in line

    from reports.loading import load_results
    from reports.ship import ship_sections

    result_set = load_results([results])
    assert result_set.problems == []
    (section,) = ship_sections(result_set)
    (busy_line,) = section.contention
    assert busy_line.startswith("[small] other work took ")
    labels = {t.target for t in section.targets}
    assert "small: extract zip vs the reference loop" in labels
    assert all(t.verdict == codec_targets.TOO_FEW for t in section.targets)  # one round
    assert all("cores busy against" in t.work for t in section.targets if not t.exact)
    (table,) = section.tables
    created = {r.name for r in table.rows if r.create.measured}
    assert created == {"tar.gz with zlib", "zip with zlib"}


def test_dir_goes_with_measure_only(tmp_path, capsys):
    with pytest.raises(SystemExit) as caught:
        codec_targets.main([str(tmp_path), "--dir", str(tmp_path)])
    assert caught.value.code == 2
    assert "--dir goes with --measure" in capsys.readouterr().err
