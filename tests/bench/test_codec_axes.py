"""The codec axes of the grid: formats of other tools, backends per operation, tar.zst cells,
and the codec target table."""

from __future__ import annotations

import tarfile
import zipfile

import pytest

from bench import codec_axes, codec_targets
from bench.cases import library_config
from bench.grid import PRESETS, expand_grid


def test_other_tools_archives_are_only_read():
    cells = expand_grid(PRESETS["codecs"].grid, pigz=False)
    assert not [c for c in cells if c.operation == "create" and "+" in c.format]
    foreign = {c.format for c in cells if c.operation == "extract" and "+" in c.format}
    assert foreign == set(codec_axes.FOREIGN_FORMATS)
    assert {c.format for c in cells if c.operation == "create"} == {"tar.gz", "zip", "tar.zst"}


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


def test_targets_table_from_records():
    def record(op, fmt, variant, backend, values, workload="medium"):
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

    records = [
        record("create", "tar.zst", "parallel", "zlib", [0.10, 0.11, 0.10]),
        record("create", "tar.gz", "reference", "zlib", [1.0, 1.1, 1.0]),
    ]
    rows = {
        r["target"]: r for r in codec_targets.evaluate(records, codec_targets.default_targets())
    }
    zst = rows["create tar.zst (level 3) vs the tar.gz reference loop"]
    assert zst["ratio"] == pytest.approx(10.0) and zst["verdict"] == "meets"
    assert rows["create tar.gz with isal vs the reference loop"]["verdict"] == "absent"
