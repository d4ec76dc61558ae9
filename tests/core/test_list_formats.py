"""``list_archive`` and ``archive-parallel list`` describe the same tree the same way whatever
the format, in tar's form: a folder's name without a trailing ``/``, a symlink with size 0 and
its target (``-> target``, JSON ``linkname``), for a zip read from the member's data, as
extraction reads it (and bounded as it is). Zips written by Info-ZIP's ``zip -y`` list the
same as ours."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import zipfile
from pathlib import Path

import pytest

from archive_parallel import ArchiveManager, CorruptArchiveError, UnsafeArchiveError
from archive_parallel.verify import MemberInfo
from tests.cli_runner import run_cli

FORMATS = ["tar.gz", "zip", "tar", "tar.xz"]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "t"
    (root / "d" / "sub").mkdir(parents=True)
    (root / "d" / "f").write_text("hello\n")
    (root / "d" / "sub" / "g").write_text("deeper\n" * 50)
    (root / "link").symlink_to("d/f")
    (root / "d" / "up").symlink_to("../link")
    (root / "dirlink").symlink_to("d/sub")
    (root / "empty").mkdir()
    return root


def _created(tree: Path, suffix: str) -> Path:
    archive = tree.parent / f"t.{suffix}"
    r = run_cli("create", tree, archive, "--reproducible", "--no-meta")
    assert r.returncode == 0, r.stderr
    return archive


def _rows(archive: Path) -> list[tuple]:
    r = run_cli("list", archive, "--json")
    assert r.returncode == 0, r.stderr
    members = json.loads(r.stdout)["members"]
    return sorted((m["name"], m["kind"], m["size"], m["mode"], m["linkname"]) for m in members)


def test_every_format_lists_the_same(tree):
    listings = {suffix: _rows(_created(tree, suffix)) for suffix in FORMATS}
    assert all(rows == listings["tar.gz"] for rows in listings.values()), listings
    rows = {name: (kind, size, linkname) for name, kind, size, _, linkname in listings["zip"]}
    assert rows["link"] == ("symlink", 0, "d/f")
    assert rows["d/up"] == ("symlink", 0, "../link")
    assert rows["dirlink"] == ("symlink", 0, "d/sub")
    assert rows["d"] == ("dir", 0, "") and rows["empty"] == ("dir", 0, "")
    assert rows["d/sub/g"] == ("file", 7 * 50, "")


def test_the_text_listing_is_the_same_for_zip_and_tar(tree):
    texts = {}
    for suffix in ("zip", "tar.gz"):
        r = run_cli("list", _created(tree, suffix))
        assert r.returncode == 0, r.stderr
        texts[suffix] = sorted(r.stdout.splitlines())
    assert texts["zip"] == texts["tar.gz"]
    assert any(line.endswith("  link -> d/f") for line in texts["zip"])
    assert not any(line.endswith("/") for line in texts["zip"])


def test_list_archive_returns_member_infos(tree):
    with ArchiveManager() as manager:
        members = manager.list_archive(_created(tree, "zip"))
    assert isinstance(members, list) and all(isinstance(m, MemberInfo) for m in members)
    link = next(m for m in members if m.name == "link")
    assert (link.kind, link.size, link.linkname) == ("symlink", 0, "d/f")


@pytest.mark.skipif(shutil.which("zip") is None, reason="Info-ZIP zip is not installed")
def test_a_zip_made_by_info_zip_lists_as_ours(tree):
    theirs = tree.parent / "theirs.zip"
    subprocess.run(["zip", "-qry", str(theirs), "."], cwd=tree, check=True)
    ours = {(n, k, s, ln) for n, k, s, _, ln in _rows(_created(tree, "zip"))}
    assert {(n, k, s, ln) for n, k, s, _, ln in _rows(theirs)} == ours


def _zip_link(path: Path, name: str, target: bytes) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo(name)
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, target)
    return path


def test_a_link_target_longer_than_extraction_allows_is_refused_unread(tmp_path):
    archive = _zip_link(tmp_path / "long.zip", "link", b"a/" * 5000)
    r = run_cli("list", archive)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.startswith("archive-parallel: unsafe archive: ") and "too long" in r.stderr
    with ArchiveManager() as manager, pytest.raises(UnsafeArchiveError, match="too long"):
        manager.list_archive(archive)
    r = run_cli("extract", archive, tmp_path / "d")
    assert r.returncode == 1 and "too long" in r.stderr


def test_a_damaged_link_target_is_damage_naming_the_member(tmp_path):
    archive = _zip_link(tmp_path / "bad.zip", "the-link", b"target-name")
    data = archive.read_bytes()
    at = data.index(b"target-name")
    archive.write_bytes(data[:at] + b"X" + data[at + 1 :])
    with ArchiveManager() as manager, pytest.raises(CorruptArchiveError) as excinfo:
        manager.list_archive(archive)
    assert excinfo.value.member == "the-link"
    r = run_cli("list", archive, "--json")
    assert r.returncode == 1
    assert json.loads(r.stdout)["error"]["kind"] == "damaged archive"


def test_extraction_still_makes_the_links(tree, tmp_path):
    dest = tmp_path / "out"
    r = run_cli("extract", _created(tree, "zip"), dest)
    assert r.returncode == 0, r.stderr
    assert os.readlink(dest / "link") == "d/f" and os.readlink(dest / "d" / "up") == "../link"
