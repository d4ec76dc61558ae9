"""``archive-parallel create`` on a tree holding what extraction would refuse: symlinks that
are absolute or lead outside the tree (a virtual environment's ``bin/python``), and names that
would not read back the same. Without an option it fails naming every one at once and writes
nothing; ``--follow-symlinks`` archives what the links point at, ``--skip-unarchivable``
leaves them out with a warning each. What is written is read back with the system's ``tar``
and ``unzip``."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.cli_runner import run_cli

LINKS = ["python", "python3", "python3.11", "pip", "pip3"]


@pytest.fixture
def tree(tmp_path: Path) -> dict[str, Path]:
    """``app/``: ``main.py``, ``bin/`` with five links to an interpreter outside the tree (by
    absolute path), and ``lib/ok -> ../main.py``, a link that stays inside."""
    outside = tmp_path / "usr" / "bin" / "python3"
    outside.parent.mkdir(parents=True)
    outside.write_bytes(b"#!interpreter\n" * 100)
    app = tmp_path / "app"
    (app / "bin").mkdir(parents=True)
    (app / "lib").mkdir()
    (app / "main.py").write_text("print('hi')\n")
    for name in LINKS:
        (app / "bin" / name).symlink_to(outside)
    (app / "lib" / "ok").symlink_to("../main.py")
    return {"app": app, "outside": outside, "tmp": tmp_path}


def _tar_listing(archive: Path) -> dict[str, str]:
    """Each member's name and ``tar -tv`` type letter (``-`` file, ``l`` link, ``d`` dir)."""
    out = subprocess.run(["tar", "-tvf", str(archive)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return {line.split()[5].rstrip("/"): line[0] for line in out.stdout.splitlines()}


def test_create_fails_naming_every_link_at_once(tree):
    archive = tree["tmp"] / "out" / "app.tar.gz"
    r = run_cli("create", tree["app"], archive)
    assert r.returncode == 1 and r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    line = lines[0]
    assert line.startswith("archive-parallel: error: cannot archive 5 source entries: ")
    assert str(tree["app"] / "bin" / "python") in line and "and 2 more" in line
    assert "absolute path" in line
    assert "--follow-symlinks" in line and "--skip-unarchivable" in line
    assert not archive.parent.exists() or os.listdir(archive.parent) == []


def test_json_lists_every_refused_entry(tree):
    archive = tree["tmp"] / "app.zip"
    r = run_cli("create", tree["app"], archive, "--json")
    assert r.returncode == 1
    data = json.loads(r.stdout)
    assert data["exit_code"] == 1 and data["error"]["kind"] == "error"
    entries = data["error"]["entries"]
    assert sorted(e["name"] for e in entries) == sorted(f"bin/{n}" for n in LINKS)
    assert all("absolute path" in e["reason"] for e in entries)
    assert not archive.exists()


def test_a_bad_name_alone_gets_no_follow_symlinks_hint(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "back\\slash.txt").write_text("x\n")
    r = run_cli("create", src, tmp_path / "a.tar.gz")
    assert r.returncode == 1
    assert "--skip-unarchivable" in r.stderr and "--follow-symlinks" not in r.stderr


@pytest.mark.parametrize("suffix", ["tar.gz", "zip"])
def test_skip_unarchivable_leaves_them_out_with_a_warning_each(tree, suffix):
    archive = tree["tmp"] / f"app.{suffix}"
    r = run_cli("create", tree["app"], archive, "--skip-unarchivable")
    assert r.returncode == 0, r.stderr
    assert r.stdout.rstrip().endswith("; left out 5 unarchivable")
    warnings = r.stderr.splitlines()
    assert len(warnings) == 5 and all("WARNING: skipping" in w for w in warnings)
    if suffix == "zip":
        out = subprocess.run(["unzip", "-Z1", str(archive)], capture_output=True, text=True)
        names = {n.rstrip("/") for n in out.stdout.splitlines()}
    else:
        names = set(_tar_listing(archive))
    assert names == {"main.py", "bin", "lib", "lib/ok"}
    r = run_cli("create", tree["app"], archive, "--skip-unarchivable", "--json")
    skipped = json.loads(r.stdout)["skipped"]
    assert sorted(s["name"] for s in skipped) == sorted(f"bin/{n}" for n in LINKS)
    assert all(s["reason"].startswith("unarchivable: ") for s in skipped)


def test_follow_symlinks_archives_what_the_links_point_at(tree):
    archive = tree["tmp"] / "app.tar.gz"
    r = run_cli("create", tree["app"], archive, "--follow-symlinks")
    assert r.returncode == 0, r.stderr
    assert r.stderr == "" and "left out" not in r.stdout
    kinds = _tar_listing(archive)
    assert {kinds[f"bin/{n}"] for n in LINKS} == {"-"} and kinds["lib/ok"] == "-"
    dest = tree["tmp"] / "theirs"
    dest.mkdir()
    subprocess.run(["tar", "-xzf", str(archive), "-C", str(dest)], check=True)
    assert (dest / "bin" / "python").read_bytes() == tree["outside"].read_bytes()
    assert not (dest / "bin" / "python").is_symlink()
    assert (dest / "lib" / "ok").read_text() == "print('hi')\n"


def test_without_follow_symlinks_a_link_inside_stays_a_link(tree):
    for name in LINKS:
        (tree["app"] / "bin" / name).unlink()
    archive = tree["tmp"] / "app.tar.gz"
    r = run_cli("create", tree["app"], archive)
    assert r.returncode == 0, r.stderr
    assert _tar_listing(archive)["lib/ok"] == "l"
