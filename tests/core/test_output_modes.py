"""An archive and its side file get the permissions a plain write would give them: a new one
0o666 less the umask in force at that call (as ``tarfile.open`` and ``ZipFile`` create theirs),
one written over an earlier archive that archive's permission bits."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from archive_parallel import ArchiveConfig, ArchiveManager
from tests.umask import umask

CONFIG = ArchiveConfig(durable_writes=False)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("suffix", ["tar.gz", "zip"])
def test_each_call_uses_the_umask_in_force_then(sample_tree, tmp_path, suffix):
    with ArchiveManager() as manager:
        for mask in (0o022, 0o077, 0o002, 0o027):
            out = tmp_path / f"pkg-{mask:03o}.{suffix}"
            with umask(mask):
                manager.create_archive(sample_tree, out, CONFIG)
            expected = 0o666 & ~mask
            assert mode_of(out) == expected, f"umask {mask:03o}"
            assert mode_of(Path(f"{out}.meta")) == expected, f"umask {mask:03o}"


def test_an_archive_written_over_keeps_the_permissions_it_had(sample_tree, tmp_path):
    out = tmp_path / "pkg.tar.gz"
    with ArchiveManager() as manager, umask(0o022):
        manager.create_archive(sample_tree, out, CONFIG)
        out.chmod(0o640)
        Path(f"{out}.meta").chmod(0o600)
        manager.create_archive(sample_tree, out, CONFIG)
    assert mode_of(out) == 0o640
    assert mode_of(Path(f"{out}.meta")) == 0o600


def test_a_private_archive_stays_private_while_it_is_replaced(sample_tree, tmp_path):
    """The temporary files are never more open than the files they replace: one opened by
    another user while it is written would stay readable through that descriptor."""
    out = tmp_path / "pkg.tar.gz"
    seen: dict[str, int] = {}

    def look(done: int, total: int) -> None:
        for path in tmp_path.iterdir():
            if ".ap-tmp-" in path.name:
                seen[path.name] = mode_of(path)

    with ArchiveManager() as manager, umask(0o022):
        manager.create_archive(sample_tree, out, CONFIG)
        out.chmod(0o600)
        Path(f"{out}.meta").chmod(0o600)
        config = ArchiveConfig(durable_writes=False, progress_callback=look)
        manager.create_archive(sample_tree, out, config)
    assert seen and set(seen.values()) == {0o600}
    assert mode_of(out) == 0o600
