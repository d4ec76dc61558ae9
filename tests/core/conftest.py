"""Fixtures for the core API tests: small real trees on disk."""

from __future__ import annotations

import os
import random
import stat
from pathlib import Path

import pytest

from archive_parallel import ArchiveManager

FORMAT_SUFFIXES = ["tar.gz", "tar.bz2", "tar.xz", "tar", "zip"]


def build_sample_tree(root: Path, files: int = 30, seed: int = 1) -> Path:
    """A tree with text and random files, empty file and folder, unicode and long names, a
    symlink, and the default-excluded .DS_Store / Thumbs.db."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    words = [b"alpha", b"beta", b"gamma", b"delta", b"config", b"value", b"\n"]
    for i in range(files):
        folder = root / f"dir{i % 4}" / ("sub" if i % 3 else "")
        folder.mkdir(parents=True, exist_ok=True)
        if i % 2:
            data = b" ".join(rng.choice(words) for _ in range(rng.randint(0, 3000)))
        else:
            data = rng.randbytes(rng.randint(0, 20000))
        (folder / f"file{i}.dat").write_bytes(data)
    (root / "empty.txt").write_bytes(b"")
    (root / "empty_dir").mkdir(exist_ok=True)
    (root / "ünïcødé-ファイル.txt").write_text("unicode\n", encoding="utf-8")
    long_dir = root / ("long-" + "d" * 80)
    long_dir.mkdir(exist_ok=True)
    (long_dir / ("name-" + "x" * 90 + ".txt")).write_bytes(b"long name\n")
    big = root / "big.bin"
    big.write_bytes(rng.randbytes(300_000) + b"z" * 2_300_000)  # streamed (> SMALL_FILE_LIMIT)
    os.chmod(root / "dir0" / "file0.dat", 0o600)
    exe = root / "run.sh"
    exe.write_text("#!/bin/sh\necho hi\n")
    os.chmod(exe, 0o755)
    os.symlink("run.sh", root / "link-to-run")
    (root / ".DS_Store").write_bytes(b"junk")
    (root / "dir1" / "Thumbs.db").write_bytes(b"junk")
    return root


@pytest.fixture
def sample_tree(tmp_path: Path) -> Path:
    return build_sample_tree(tmp_path / "src")


@pytest.fixture
def manager():
    with ArchiveManager() as m:
        yield m


DEFAULT_EXCLUDED = {".DS_Store", "Thumbs.db"}


def snapshot(root: Path, mtimes: bool = True, exclude: set[str] = DEFAULT_EXCLUDED) -> dict:
    """{relative path: (kind, content or link target, mode, mtime)} of a tree."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            if name in exclude:
                continue
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(path), None, None)
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", None, stat.S_IMODE(st.st_mode), None)
            else:
                out[rel] = (
                    "file",
                    path.read_bytes(),
                    stat.S_IMODE(st.st_mode),
                    int(st.st_mtime) if mtimes else None,
                )
    return out


@pytest.fixture(name="snapshot")
def snapshot_fixture():
    return snapshot
