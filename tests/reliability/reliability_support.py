"""Shared helpers for the reliability tests: small tree generators, tree comparison, and the
"nothing left behind" checks (leftover files, live worker threads, open file descriptors).

Imported as ``reliability_support``: conftest.py puts this folder on ``sys.path``, since
``--import-mode=importlib`` does not. Everything here is real: trees are written to disk,
archives are produced by the library and read back. The helpers only observe; they never patch
library code.
"""

from __future__ import annotations

import contextlib
import gc
import importlib.util
import os
import random
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive_parallel import ArchiveConfig, ArchiveManager
from archive_parallel.pool import THREAD_NAME_PREFIX

REPO_ROOT = Path(__file__).resolve().parents[2]
FORMATS = ["tar.gz", "tar.bz2", "tar.xz", "tar", "zip"]
TEMP_MARKER = ".ap-tmp-"
STAGING_MARKER = ".ap-staging-"

#: zip creation lives in ``archive_parallel.codecs.zip_writer`` (branch ``codecs``)
ZIP_WRITER_PRESENT = importlib.util.find_spec("archive_parallel.codecs.zip_writer") is not None


def format_param(fmt: str):
    """A pytest param for a format; zip is skipped (with the reason) while its writer is absent."""
    marks = []
    if fmt == "zip" and not ZIP_WRITER_PRESENT:
        marks.append(pytest.mark.skip(reason="zip writer (archive_parallel.codecs) not merged"))
    return pytest.param(fmt, marks=marks, id=fmt)


ALL_FORMATS = [format_param(f) for f in FORMATS]


# ---------------------------------------------------------------------------- trees
_TEXT_TABLE = bytes((b"abcdefghij klmno\n"[i % 17]) for i in range(256))


def text_bytes(rng: random.Random, size: int) -> bytes:
    """Compressible, text-like bytes (a 17-letter alphabet), made fast from random bytes."""
    return rng.randbytes(size).translate(_TEXT_TABLE)


def write_tree(root: Path, files: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    """Write ``{relative name: content}`` (and ``{link name: target}``) under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    for name, target in (links or {}).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, path)
    return root


def small_files(
    rng: random.Random, count: int, size: int, prefix: str = "", folders: int = 4
) -> dict[str, bytes]:
    """``count`` files of about ``size`` bytes (half random, half text) over a few folders."""
    out = {}
    for i in range(count):
        data = rng.randbytes(size) if i % 2 else text_bytes(rng, size)
        out[f"{prefix}d{i % folders}/f{i:03d}.dat"] = data
    return out


def tree_snapshot(root: Path) -> dict[str, tuple]:
    """``{relative name: (kind, content or link target)}`` of everything under ``root``."""
    out: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(path))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", None)
            else:
                out[rel] = ("file", path.read_bytes())
    return out


#: 64 KiB compression blocks and gzip restart segments: a small tree then runs through many
#: blocks, segments and windows, so an interrupt can land in each part of every engine
SMALL_BLOCKS = dict(block_size=64 * 1024, gzip_restart_interval=64 * 1024)


def config_for(parallel: bool, **overrides) -> ArchiveConfig:
    """Parallel: 4 workers, small batches and a low threshold so even small trees take the
    parallel path; sequential: the same engines with no executor."""
    values = dict(
        compression_level=1,
        thread_pool_size=4,
        parallel_batch_size=4,
        parallel_threshold=2,
        parallel_min_archive_bytes=0,
        enable_parallel_processing=parallel,
    )
    values.update(overrides)
    return ArchiveConfig(**values)


# ---------------------------------------------------------------------------- leftovers
def listing(folder: Path) -> list[str]:
    """Names in ``folder`` (sorted), or [] when it does not exist."""
    try:
        return sorted(os.listdir(folder))
    except FileNotFoundError:
        return []


def leftovers(folder: Path) -> list[str]:
    """Temporary or staging names anywhere under ``folder``."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            if TEMP_MARKER in name or name.startswith(STAGING_MARKER):
                found.append(os.path.join(dirpath, name))
    return found


def worker_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(THREAD_NAME_PREFIX)]


def open_fd_count() -> int:
    gc.collect()
    return len(os.listdir("/proc/self/fd"))


def child_pids() -> set[int]:
    """This process's children, running or not yet reaped (``/proc/self/task/*/children``)."""
    pids: set[int] = set()
    for task in os.listdir("/proc/self/task"):
        with contextlib.suppress(FileNotFoundError):  # a thread that ended meanwhile
            pids.update(map(int, Path(f"/proc/self/task/{task}/children").read_text().split()))
    return pids


@contextlib.contextmanager
def mounted_tmpfs(mount_point: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` (``"2m"``) mounted at ``mount_point`` (created), unmounted on the
    way out; the test is skipped, with the reason, where mounting is not allowed."""
    mount_point.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip() or result.returncode}")
    try:
        yield mount_point
    finally:
        if subprocess.run(["umount", str(mount_point)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


def assert_no_workers_after_close(manager: ArchiveManager) -> None:
    manager.close()
    alive = worker_threads()
    assert not alive, f"worker threads still alive after close(): {[t.name for t in alive]}"
    assert manager.get_stats()["thread_pool_active"] is False


# ---------------------------------------------------------------------------- subprocess
def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("ARCHIVE_PARALLEL_TUNED_PROFILE", None)
    return env


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "archive_parallel", *args]
