"""Which code a run measured: the library's source, its version and the optional codecs.

A run's ``run.json`` carries ``library`` (``library_identity``): the package version, the
git commit when the library runs from a checkout (and whether its folder had uncommitted
changes), the versions of the optional codec packages, and ``source_digest``, a SHA-256 over
the library's own ``.py`` files (names and contents). The digest is what decides whether two
runs measured the same code: it needs no git, and a checkout with local edits gets a digest of
its own. Beside it: the Python that ran the measurement (tarfile, zipfile and zlib of the
reference loop come with it) and ``harness_digest``, the same digest over the harness modules
that do the measured work (``MEASURING_MODULES``: the reference loop among them). A run also
records where its cells wrote (``scratch_place``: the place and its file system; a RAM disk and an
SD card measure different things). Runs are only ever judged together (``bench.codec_targets
RUN RUN``, the report's codec targets and verdicts) when their ``pooling_key`` is equal; a run
resumed under other code or another scratch place pools with nothing.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import archive_parallel

#: distributions whose versions change what a codec cell measures (see ``bench.codec_axes``)
CODEC_DISTRIBUTIONS = ("isal", "zlib-ng", "rapidgzip", "backports.zstd")

LIBRARY_DIR = Path(archive_parallel.__file__).resolve().parent
HARNESS_DIR = Path(__file__).resolve().parent
#: the harness modules that run what is timed: the cases (the reference loop among them), the
#: timing and memory workers, the side-by-side rounds and the workloads
MEASURING_MODULES = (
    "cases.py",
    "interleaved.py",
    "memory_worker.py",
    "timing_worker.py",
    "workloads.py",
)


def source_digest(package_dir: Path = LIBRARY_DIR, only: tuple[str, ...] | None = None) -> str:
    """SHA-256 over the package's ``.py`` files (or the ``only`` ones): each one's path
    (relative, ``/``-separated) and bytes, in sorted order, so the same sources give the same
    digest on any machine."""
    digest = hashlib.sha256()
    names = {path.relative_to(package_dir).as_posix(): path for path in package_dir.rglob("*.py")}
    if only is not None:
        names = {name: path for name, path in names.items() if name in only}
    for name in sorted(names):
        digest.update(name.encode() + b"\0")
        digest.update(names[name].read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def _git(args: list[str], where: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(where), *args], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_state(package_dir: Path = LIBRARY_DIR) -> tuple[str | None, bool | None]:
    """(commit, dirty) of the checkout the package lives in; (None, None) outside one (an
    installed wheel) or without git. ``dirty``: the package's folder differs from the commit."""
    commit = _git(["rev-parse", "HEAD"], package_dir)
    if not commit:
        return None, None
    status = _git(["status", "--porcelain", "--", "."], package_dir)
    return commit, (bool(status) if status is not None else None)


def codec_versions() -> dict[str, str | None]:
    """Installed version of each optional codec distribution (None: not installed)."""
    versions: dict[str, str | None] = {}
    for name in CODEC_DISTRIBUTIONS:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def library_identity() -> dict[str, Any]:
    """The ``library`` field of run.json (see the module docstring)."""
    commit, dirty = git_state()
    return {
        "version": archive_parallel.__version__,
        "commit": commit,
        "dirty": dirty,
        "source_digest": source_digest(),
        "codecs": codec_versions(),
        "python": f"{sys.implementation.name} {platform.python_version()}",
        "harness_digest": source_digest(HARNESS_DIR, MEASURING_MODULES),
    }


def scratch_identity(place: Path) -> dict[str, Any]:
    """The ``scratch`` field of run.json: where the cells write, and its file system (from
    /proc/mounts where there is one; None elsewhere)."""
    from bench.fingerprint import parse_proc_mounts

    try:
        mounts = Path("/proc/mounts").read_text(encoding="utf-8", errors="replace")
    except OSError:
        filesystem = None
    else:
        filesystem = parse_proc_mounts(mounts, str(place.resolve()))["filesystem"]
    return {"place": str(place), "filesystem": filesystem}


def pooling_key(run: dict[str, Any]) -> str | None:
    """What two runs must share to be judged together: the library's source digest and the
    codec versions; None when the run did not record them (filed before they were recorded,
    or resumed under other code), so it pools with nothing."""
    library = run.get("library")
    if not isinstance(library, dict) or not library.get("source_digest"):
        return None
    if run.get("library_changed") or run.get("scratch_changed"):
        return None
    codecs = library.get("codecs") or {}
    pinned = ",".join(f"{name}={codecs[name]}" for name in sorted(codecs))
    scratch = run.get("scratch_place")
    storage = scratch.get("filesystem") if isinstance(scratch, dict) else None
    parts = [library["source_digest"], pinned, library.get("python"), library.get("harness_digest")]
    return "|".join(str(part or "") for part in [*parts, storage])


def newest_code_runs(runs: list[dict[str, Any]]) -> list[int]:
    """Which of a machine's runs (their run.json, oldest first) measured the code of the
    newest: the indices of every run whose ``pooling_key`` equals the newest run's, or the
    newest alone when it did not record its code. Empty for no runs."""
    if not runs:
        return []
    newest = pooling_key(runs[-1])
    if newest is None:
        return [len(runs) - 1]
    return [i for i, run in enumerate(runs) if pooling_key(run) == newest]


def describe(run: dict[str, Any]) -> str:
    """A short human name of the code a run measured, for messages."""
    library = run.get("library")
    if not isinstance(library, dict):
        return "library not recorded"
    commit = library.get("commit")
    where = f"commit {commit[:10]}" if commit else "no git checkout"
    if library.get("dirty"):
        where += " with local changes"
    return f"archive-parallel {library.get('version')}, {where}"


__all__ = [
    "CODEC_DISTRIBUTIONS",
    "codec_versions",
    "describe",
    "git_state",
    "library_identity",
    "newest_code_runs",
    "pooling_key",
    "scratch_identity",
    "source_digest",
]
