"""Which code a run measured (``bench.provenance``), recorded in every run filed."""

from __future__ import annotations

import json
import subprocess

from bench import provenance
from bench.grid import NO_BATCH, Cell
from bench.interleaved import save_run
from bench.runner import new_run_dir


def _record(variant: str, fmt: str, values: list[float], group: str) -> dict:
    parallel = variant == "parallel"
    cell = Cell("create", fmt, "medium", 1.0, variant, 2 if parallel else 1,
                50 if parallel else NO_BATCH, "zlib")  # fmt: skip
    return {
        **cell.to_dict(),
        "values": values,
        "valid": True,
        "invalid_reason": "",
        "round_group": group,
        "round_contention": [0.0] * len(values),
    }


def _run_records(ratio: float, group: str, rounds: int = 9) -> list[dict]:
    """A tar.zst creation ``ratio`` times as fast as the tar.gz reference loop, side by side."""
    jitter = [1.0 + 0.01 * ((i * 7) % 5 - 2) for i in range(rounds)]
    return [
        _record("reference", "tar.gz", [1.0 * j for j in jitter], group),
        _record("parallel", "tar.zst", [1.0 / ratio * j for j in jitter], group),
    ]


def _library(digest: str = "a" * 64, isal: str | None = "1.9.1") -> dict:
    return {
        "version": "0.1.0",
        "commit": "0123456789abcdef",
        "dirty": False,
        "source_digest": digest,
        "codecs": {"isal": isal, "zlib-ng": None, "rapidgzip": None, "backports.zstd": "1.8.0"},
    }


def test_the_source_digest_follows_the_sources_only(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "a.py").write_text("x = 1\n")
    (package / "sub" / "b.py").write_text("y = 2\n")
    first = provenance.source_digest(package)
    (package / "notes.txt").write_text("not code")
    (package / "__pycache__").mkdir()
    assert provenance.source_digest(package) == first
    (package / "sub" / "b.py").write_text("y = 3\n")
    assert provenance.source_digest(package) != first
    assert provenance.source_digest() == provenance.library_identity()["source_digest"]


def test_git_state_reads_a_real_checkout(tmp_path):
    repo = tmp_path / "repo"
    package = repo / "pkg"
    package.mkdir(parents=True)
    (package / "m.py").write_text("x = 1\n")
    assert provenance.git_state(package) == (None, None)

    def git(*args):
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)

    git("init", "-q")
    git("-c", "user.email=t@example.org", "-c", "user.name=t", "add", ".")
    git("-c", "user.email=t@example.org", "-c", "user.name=t", "commit", "-qm", "one")
    commit, dirty = provenance.git_state(package)
    assert commit and len(commit) == 40 and dirty is False
    (package / "m.py").write_text("x = 2\n")
    assert provenance.git_state(package) == (commit, True)


def test_the_pooling_key_needs_the_same_sources_and_codecs():
    same = provenance.pooling_key({"library": _library()})
    assert same == provenance.pooling_key({"library": _library()})
    assert same != provenance.pooling_key({"library": _library(digest="b" * 64)})
    assert same != provenance.pooling_key({"library": _library(isal=None)})
    assert provenance.pooling_key({}) is None
    assert provenance.pooling_key({"library": _library(), "library_changed": True}) is None
    assert provenance.describe({"library": _library()}) == (
        "archive-parallel 0.1.0, commit 0123456789"
    )


def test_the_pooling_key_needs_the_same_python_harness_and_storage():
    """Python's tarfile, zipfile and zlib, the reference loop and the scratch file system all
    change what a cell measures."""
    base = {**_library(), "python": "cpython 3.11.7", "harness_digest": "h" * 64}
    key = provenance.pooling_key({"library": base})
    assert key != provenance.pooling_key({"library": {**base, "python": "cpython 3.13.1"}})
    assert key != provenance.pooling_key({"library": {**base, "harness_digest": "g" * 64}})
    on = {"place": "/dev/shm/x", "filesystem": "tmpfs"}
    ram = provenance.pooling_key({"library": base, "scratch_place": on})
    assert ram != provenance.pooling_key(
        {"library": base, "scratch_place": {**on, "filesystem": "ext4"}}
    )
    assert provenance.pooling_key({"library": base, "scratch_changed": True}) is None
    identity = provenance.library_identity()
    assert identity["python"].startswith("cpython ") and len(identity["harness_digest"]) == 64


def test_a_filed_run_records_the_code_measured(tmp_path):
    run_dir = save_run(_run_records(8.0, "g1"), tmp_path / "results", ["test"], 9, "box")
    run = json.loads((run_dir / "run.json").read_text())
    library = run["library"]
    assert run["scratch_place"]["place"] and "filesystem" in run["scratch_place"]
    assert library["source_digest"] == provenance.source_digest()
    assert library["version"] and set(library["codecs"]) == set(provenance.CODEC_DISTRIBUTIONS)


def test_runs_filed_in_the_same_second_get_folders_of_their_own(tmp_path):
    first = new_run_dir(tmp_path / "box-2c", "20261203-083119-interleaved")
    second = new_run_dir(tmp_path / "box-2c", "20261203-083119-interleaved")
    assert first != second and first.is_dir() and second.is_dir()
    assert sorted([second.name, first.name]) == [first.name, second.name]  # filing order
    runs = [save_run(_run_records(7.0, f"g{i}"), tmp_path, ["t"], 9, "box") for i in range(3)]
    assert len({run.name for run in runs}) == 3


def test_the_newest_runs_code_picks_the_runs_pooled_with_it():
    mine, other = {"library": _library()}, {"library": _library(digest="f" * 64)}
    assert provenance.newest_code_runs([mine, other, mine, mine]) == [0, 2, 3]
    assert provenance.newest_code_runs([mine, other]) == [1]
    assert provenance.newest_code_runs([mine, {}]) == [1]  # newest recorded no code: alone
    assert provenance.newest_code_runs([{}, mine]) == [1]
    assert provenance.newest_code_runs([]) == []
