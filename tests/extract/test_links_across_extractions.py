"""Links across extractions: the destination as it will be after the commit is what counts.

Each archive here is safe on its own (its links stay inside when extracted into an empty
folder); together with what the destination already holds (links from an earlier archive,
a link the user made, a link this archive replaces) a symlink would resolve outside, or a file
would be written through a link. Every such commit is refused with ``UnsafeArchiveError`` and
the destination is left exactly as it was; the harmless combinations still work.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from extract_helpers import SUFFIX, Entry, snapshot, staging_leftovers, write_archive

from archive_parallel import ArchiveConfig, ArchiveManager
from archive_parallel.errors import UnsafeArchiveError
from archive_parallel.formats import CompressionFormat

FORMATS = [CompressionFormat.TAR_GZ, CompressionFormat.ZIP, CompressionFormat.TAR]


def F(name: str, data: bytes = b"x") -> Entry:  # noqa: N802 - reads like a table
    return Entry(name, "file", data)


def D(name: str) -> Entry:  # noqa: N802
    return Entry(name, "dir", mode=0o755)


def L(name: str, target: str) -> Entry:  # noqa: N802
    return Entry(name, "symlink", linkname=target, mode=0o777)


@pytest.fixture(params=[True, False], ids=["parallel", "sequential"])
def config(request) -> ArchiveConfig:
    return ArchiveConfig(
        enable_parallel_processing=request.param,
        parallel_threshold=1,
        parallel_min_archive_bytes=0,
        thread_pool_size=2,
    )


def _extract_all(tmp: Path, fmt, dest: Path, archives: list[list[Entry]], config) -> None:
    tmp.mkdir(parents=True, exist_ok=True)
    with ArchiveManager() as manager:
        for number, entries in enumerate(archives):
            archive = write_archive(tmp / f"a{number}{SUFFIX[fmt]}", fmt, entries)
            manager.extract_archive(archive, dest, config)


def _each_alone_is_safe(tmp: Path, fmt, archives, config) -> None:
    for number, entries in enumerate(archives):
        _extract_all(tmp / f"alone{number}", fmt, tmp / f"alone{number}" / "d", [entries], config)


# (earlier archives, the archive that must be refused)
REFUSED = {
    "chain through an earlier archive's link": (
        [[D("a"), L("a/b", "..")]],
        [L("x", "a/b/.."), F("plain.txt")],
    ),
    "chain through an earlier link, two levels": (
        [[D("d"), D("d/e"), L("up", "d/e/../..")]],
        [L("z", "up/.."), F("other.txt")],
    ),
    "a link this archive replaces turns an earlier link outward": (
        [[D("q"), D("q/r"), L("p", "q/r"), L("y", "p/..")]],
        [L("p", "."), F("new.txt")],
    ),
    "chain over three archives": (
        [[D("a"), L("a/b", "..")], [L("c", "a/b"), F("c.txt")]],
        [L("x", "c/.."), F("last.txt")],
    ),
    "a folder link replaced to point at a link leading up": (
        [[D("v1"), F("v1/app"), L("cur", "v1"), L("up", "cur/..")], [D("w"), L("w/top", "..")]],
        [L("cur", "w/top"), F("deploy.txt")],
    ),
}


def _tmp(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.mark.parametrize("scenario", list(REFUSED), ids=lambda s: s.replace(" ", "-"))
@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.value)
def test_links_that_escape_only_together_are_refused(tmp_path, workspace, fmt, scenario, config):
    earlier, last = REFUSED[scenario]
    _each_alone_is_safe(_tmp(tmp_path / "alone"), fmt, [*earlier, last], config)
    dest = workspace.dest
    _extract_all(_tmp(tmp_path / "first"), fmt, dest, earlier, config)
    before = snapshot(dest)
    sentinel = snapshot(workspace.sentinel)
    archive = write_archive(tmp_path / f"last{SUFFIX[fmt]}", fmt, last)
    with ArchiveManager() as manager, pytest.raises(UnsafeArchiveError) as excinfo:
        manager.extract_archive(archive, dest, config)
    assert "outside" in str(excinfo.value)
    assert snapshot(dest) == before, "a refused commit left the destination changed"
    assert staging_leftovers(dest) == []
    assert snapshot(workspace.sentinel) == sentinel
    real_dest = os.path.realpath(dest)
    for path in dest.rglob("*"):
        if path.is_symlink():
            resolved = os.path.realpath(path)
            assert resolved == real_dest or resolved.startswith(real_dest + os.sep), path


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.value)
@pytest.mark.parametrize("absolute", [True, False], ids=["absolute", "relative"])
def test_a_link_the_user_made_outward_is_not_followed(tmp_path, workspace, fmt, absolute, config):
    dest = workspace.dest
    dest.mkdir()
    target = str(workspace.sentinel) if absolute else "../sentinel"
    (dest / "data").symlink_to(target)
    before = snapshot(dest)
    sentinel = snapshot(workspace.sentinel)
    with ArchiveManager() as manager:
        for number, entries in enumerate(
            [
                [L("x", "data")],
                [L("y", "data/secret.txt"), F("f")],
                [D("data"), F("data/secret.txt", b"overwritten")],
                [F("data/new.txt")],
                [D("deep"), L("deep/lnk", "../data"), F("k")],
            ]
        ):
            archive = write_archive(tmp_path / f"b{number}{SUFFIX[fmt]}", fmt, entries)
            with pytest.raises(UnsafeArchiveError):
                manager.extract_archive(archive, dest, config)
            assert snapshot(dest) == before, entries
            assert snapshot(workspace.sentinel) == sentinel
        # an archive whose own links stay inside is fine beside the user's link
        archive = write_archive(
            tmp_path / f"ok{SUFFIX[fmt]}", fmt, [F("f", b"1"), L("k", "f"), D("s"), L("s/up", "..")]
        )
        manager.extract_archive(archive, dest, config)
    assert os.readlink(dest / "data") == target
    assert (dest / "k").read_bytes() == b"1"
    assert snapshot(workspace.sentinel) == sentinel


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.value)
def test_writes_through_an_earlier_archives_link_are_refused(tmp_path, workspace, fmt, config):
    dest = workspace.dest
    _extract_all(_tmp(tmp_path / "a"), fmt, dest, [[D("real"), L("alias", "real")]], config)
    before = snapshot(dest)
    for number, entries in enumerate(
        [[F("alias/x")], [D("alias"), F("alias/y")], [D("alias/sub"), F("alias/sub/z")]]
    ):
        archive = write_archive(tmp_path / f"c{number}{SUFFIX[fmt]}", fmt, entries)
        with ArchiveManager() as manager, pytest.raises(UnsafeArchiveError):
            manager.extract_archive(archive, dest, config)
        assert snapshot(dest) == before
    assert list((dest / "real").iterdir()) == []


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.value)
def test_harmless_link_combinations_still_extract(tmp_path, workspace, fmt, config):
    dest = workspace.dest
    archives = [
        [D("v1"), F("v1/app", b"one"), L("current", "v1"), D("a"), L("a/b", "..")],
        [D("v2"), F("v2/app", b"two"), L("current", "v2")],  # the deployment pattern
        [L("x", "a/b"), L("y", "a/b/v1/app"), L("z", "current/app")],
        [F("current", b"now a file")],  # a file replaces a link: fine
    ]
    _extract_all(_tmp(tmp_path / "h"), fmt, dest, archives, config)
    assert (dest / "current").read_bytes() == b"now a file"
    assert (dest / "y").read_bytes() == b"one"
    assert os.path.realpath(dest / "x") == os.path.realpath(dest)
    assert staging_leftovers(dest) == []
