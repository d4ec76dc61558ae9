"""Workloads of a sweep: fixture trees (cached across runs) and the archives extraction reads.

Trees come from ``fixtures_gen.make_tree`` into a cache folder (``results/.fixtures`` or
``$ARCHIVE_BENCH_FIXTURES``) and are reused while their manifest still matches; a user's
own tree (``--tree``) is a snapshot copied into the same cache, the workload
``own-<folder>``. The archives that the extract and verify cells read are built once per run
with the library's default configuration (what a deployment would unpack), so every variant
of a group reads the same bytes. ``gzip6_size_check`` recompresses the library's tar stream
with ``gzip -6`` so the size target (within 0.5% of gzip -6) is measured on identical input.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.grid import Cell, Workload

logger = logging.getLogger(__name__)

FIXTURES_ENV = "ARCHIVE_BENCH_FIXTURES"


@dataclass
class PreparedWorkload:
    workload: Workload
    tree: Path
    file_count: int
    total_bytes: int
    digest: str
    archives: dict[str, Path]
    #: format -> why its input archive could not be built (its cells are invalid)
    input_errors: dict[str, str] = field(default_factory=dict)


def fixtures_root(results_root: Path) -> Path:
    env = os.environ.get(FIXTURES_ENV)
    return Path(env) if env else results_root / ".fixtures"


def tree_dir(root: Path, wl: Workload) -> Path:
    return root / f"{wl.profile}-s{wl.scale:g}"


#: the profile name of a workload that is a snapshot of a real tree (``own_tree_workload``)
OWN_PREFIX = "own-"


def own_tree_name(source: Path) -> str:
    """``own-<folder name>``, with what is not a letter, digit, dot, dash or underscore
    replaced by dashes (the name appears in folder names and in the report)."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", source.absolute().name).strip("-.") or "root"
    return OWN_PREFIX + stem


def own_tree_workload(root: Path, source: Path) -> Workload:
    """A workload of the real tree at ``source``: a snapshot of it in the fixture cache
    (``fixtures_gen.snapshot_tree``: taken once, reused while the tree is unchanged)."""
    from fixtures_gen.snapshot import snapshot_tree

    _check_archivable(source)
    wl = Workload(own_tree_name(source), 1.0)
    manifest = snapshot_tree(source, tree_dir(root, wl), wl.profile)
    logger.info(
        "workload %s: %d files, %d bytes from %s",
        wl.profile,
        manifest.file_count,
        manifest.total_bytes,
        source,
    )
    return wl


def _check_archivable(source: Path) -> None:
    """The library's own walk of ``source``, as a sweep's cells do it: a tree it refuses (a
    link pointing out of the tree, a name extraction would read otherwise) would make every
    cell invalid, so it is refused before anything is copied (``FixturesError``)."""
    from archive_parallel import ArchiveConfig, ArchiveError, ArchiveManager
    from archive_parallel.source_names import screen_names
    from bench.cases import NO_SIZE_LIMIT
    from fixtures_gen import FixturesError

    if not source.is_dir():
        return  # snapshot_tree says so
    config = ArchiveConfig(max_file_size=NO_SIZE_LIMIT)
    try:
        with ArchiveManager() as manager:  # the walk and name check create_archive makes
            screen_names(manager._walk(source, config).entries, config.unarchivable_names)
    except ArchiveError as exc:
        raise FixturesError(f"the library cannot archive this tree: {exc}") from None


def _own_tree_manifest(out: Path, wl: Workload):
    """The manifest of an own tree's snapshot, which only ``--tree`` takes."""
    from fixtures_gen import FixturesError
    from fixtures_gen.generate import reusable_manifest

    manifest = reusable_manifest(out, lambda _manifest: True)
    if manifest is None:
        raise FixturesError(
            f"workload {wl.profile}: its snapshot in {out} is missing or was changed; "
            "take it again with --tree <folder>"
        )
    return manifest


def prepare_tree(root: Path, wl: Workload) -> PreparedWorkload:
    import fixtures_gen

    out = tree_dir(root, wl)
    out.parent.mkdir(parents=True, exist_ok=True)
    if wl.profile.startswith(OWN_PREFIX):
        manifest = _own_tree_manifest(out, wl)
    else:
        manifest = fixtures_gen.make_tree(wl.profile, out, scale=wl.scale, seed=0, reuse=True)
    return PreparedWorkload(
        workload=wl,
        tree=out,
        file_count=int(manifest.file_count),
        total_bytes=int(manifest.total_bytes),
        digest=str(manifest.digest),
        archives={},
    )


def build_input_archives(prepared: PreparedWorkload, formats: list[str], work: Path) -> None:
    """Archives of the tree in each format, built by the library with default settings, or
    by another tool for ``<format>+<maker>`` formats (``bench.codec_axes``)."""
    from archive_parallel import ArchiveConfig, ArchiveManager
    from archive_parallel.config import DEFAULT_EXCLUDE_PATTERNS
    from bench.codec_axes import base_format, build_foreign, is_foreign

    work.mkdir(parents=True, exist_ok=True)
    config = ArchiveConfig(max_file_size=1 << 50)
    with ArchiveManager() as manager:
        for fmt in formats:
            maker = f"-{fmt.split('+', 1)[1]}" if is_foreign(fmt) else ""
            name = f"{prepared.workload.profile}-s{prepared.workload.scale:g}{maker}"
            target = work / f"{name}.{base_format(fmt)}"
            try:
                if target.exists():
                    pass
                elif is_foreign(fmt):
                    build_foreign(prepared.tree, fmt, target, DEFAULT_EXCLUDE_PATTERNS)
                else:
                    manager.create_archive(prepared.tree, target, config)
            except Exception as exc:  # that format's extract cells become invalid, not the run
                logger.error("cannot build the %s input archive: %s", fmt, exc)
                prepared.input_errors[fmt] = f"{type(exc).__name__}: {exc}"
                continue
            prepared.archives[fmt] = target


def gzip6_size_check(library_targz: Path) -> dict[str, Any] | None:
    """Sizes of the library's tar.gz and of ``gzip -6`` over the very same tar stream."""
    if shutil.which("gzip") is None or not library_targz.is_file():
        return None
    unpack = subprocess.Popen(["gzip", "-dc", str(library_targz)], stdout=subprocess.PIPE)
    try:
        pack = subprocess.run(
            ["gzip", "-6", "-c"], stdin=unpack.stdout, capture_output=True, check=True
        )
    finally:
        assert unpack.stdout is not None
        unpack.stdout.close()
        unpack.wait()
    library_bytes = library_targz.stat().st_size
    gzip_bytes = len(pack.stdout)
    return {
        "library_bytes": library_bytes,
        "gzip6_bytes": gzip_bytes,
        "ratio": library_bytes / gzip_bytes if gzip_bytes else None,
        "within_0_5_percent": abs(library_bytes / gzip_bytes - 1) <= 0.005 if gzip_bytes else None,
    }


def cell_spec(cell: Cell, prepared: PreparedWorkload, scratch: Path) -> dict[str, Any]:
    """What a worker needs to rebuild the case: the cell and its paths."""
    return {
        "cell": cell.to_dict(),
        "tree": str(prepared.tree),
        "input_archive": str(prepared.archives[cell.format])
        if cell.operation in ("extract", "verify")
        else None,
        "scratch": str(scratch),
    }
