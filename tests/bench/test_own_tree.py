"""``archive-bench run --tree FOLDER``: a sweep over a snapshot of the user's own tree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("fixtures_gen")
pytest.importorskip("pandas")

from bench.cli import main  # noqa: E402
from bench.grid import Workload  # noqa: E402
from bench.workloads import own_tree_name, prepare_tree  # noqa: E402


def make_app(root: Path, name: str = "app") -> Path:
    """A small real tree: code, text, a binary, nested folders and a link."""
    source = root / name
    (source / "pkg" / "sub").mkdir(parents=True)
    for i in range(30):
        (source / "pkg" / f"mod{i}.py").write_text(f"def f{i}(x):\n    return x * {i}\n" * 40)
    (source / "pkg" / "sub" / "data.bin").write_bytes(bytes(range(256)) * 200)
    (source / "README.md").write_text("# app\n" * 200)
    (source / "latest").symlink_to("pkg")
    return source


@pytest.mark.parametrize(
    ("folder", "name"),
    [("/srv/build/app", "own-app"), ("/srv/My App (v2)", "own-My-App-v2"), ("/", "own-root")],
)
def test_the_workload_is_named_after_the_folder(folder, name):
    assert own_tree_name(Path(folder)) == name


def test_a_sweep_measures_the_snapshot_of_a_real_tree(tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHIVE_BENCH_FIXTURES", str(tmp_path / "fixtures"))
    source = make_app(tmp_path)
    results = tmp_path / "results"
    code = main(
        [
            "run",
            "--codecs",
            "--tree",
            str(source),
            "--formats",
            "tar.gz,zip",
            "--backends",
            "zlib",
            "--values",
            "1",
            "--processes",
            "1",
            "--memory",
            "rusage",
            "--no-progress",
            "--results",
            str(results),
        ]
    )
    assert code == 0
    (run_dir,) = results.glob("*/*-codecs")
    records = [json.loads(line) for line in (run_dir / "cells.jsonl").read_text().splitlines()]
    assert {r["workload"] for r in records} == {"own-app"}
    assert {(r["operation"], r["format"]) for r in records} == {
        (op, fmt) for op in ("create", "extract") for fmt in ("tar.gz", "zip")
    }
    # every output was checked against the snapshot's manifest: archives hold all 32 files
    # and extractions give them back byte for byte
    assert all(r["valid"] for r in records), [r["invalid_reason"] for r in records]
    info = json.loads((run_dir / "run.json").read_text())
    assert info["workloads"]["own-app-s1"]["files"] == 32
    assert source.joinpath("latest").is_symlink()  # the user's tree is left as it was
    assert not list(source.parent.glob("*.manifest.json"))


def test_a_missing_snapshot_names_the_flag_that_takes_it(tmp_path):
    with pytest.raises(RuntimeError, match="--tree"):
        prepare_tree(tmp_path, Workload("own-app", 1.0))


def test_bad_tree_arguments_end_before_any_work(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ARCHIVE_BENCH_FIXTURES", str(tmp_path / "fixtures"))
    results = tmp_path / "results"
    first, second = make_app(tmp_path / "a"), make_app(tmp_path / "b")
    escaping = make_app(tmp_path / "c", "linked")
    (escaping / "outside").symlink_to("../../elsewhere")
    for args, says in (
        (["--tree", str(tmp_path / "nothing")], "not a folder"),
        (["--tree", str(first), "--tree", str(second)], "same workload own-app"),
        # the library refuses to archive it: every cell would fail, so the run never starts
        (["--tree", str(escaping)], "cannot archive this tree"),
    ):
        assert main(["run", "--codecs", "--results", str(results), *args]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and says in err
    assert not results.exists()
    assert not (tmp_path / "fixtures").exists() or not any((tmp_path / "fixtures").iterdir())
