"""Checking a tree against its manifest: changed, missing and extra entries.

Sizes are compared first (free, from the walk); files whose size matches are hashed in a thread
pool in 1 MiB reads: ``hashlib`` and file reads release the GIL, so hashing 20,000 files keeps
the disk and the cores busy. ``quick_check`` compares kinds and sizes only (the reuse test).
Ignore patterns are matched by the archiver's own ``Excluder`` (``archive_parallel.exclusion``,
standard library only like this package), so a tree extracted from an archive made with
``exclude_patterns`` is checked against its manifest with the very same rules.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from archive_parallel.exclusion import excluder_for

from .manifest import Manifest, ManifestEntry, load_manifest
from .walk import WalkedEntry, walk_tree

ALL_KINDS = ("file", "dir", "symlink")
_READ_SIZE = 1024 * 1024


@dataclass
class VerifyReport:
    ok: bool
    problems: list[str] = field(default_factory=list)
    checked_files: int = 0

    def __bool__(self) -> bool:
        return self.ok


def sha256_of(path: str | os.PathLike[str]) -> str:
    hasher = hashlib.sha256()
    with open(path, "rb", buffering=0) as handle:
        while chunk := handle.read(_READ_SIZE):
            hasher.update(chunk)
    return hasher.hexdigest()


def verify_tree(
    tree_dir: str | os.PathLike[str],
    manifest: Manifest | None = None,
    ignore_patterns: Sequence[str] = (),
    kinds: Collection[str] = ALL_KINDS,
    max_workers: int | None = None,
) -> VerifyReport:
    """Compare ``tree_dir`` with ``manifest`` (default: the one beside ``tree_dir``).

    ``ignore_patterns`` drop matching entries on both sides (an extracted tree whose archiver
    excluded ``.DS_Store``). ``kinds`` limits the check, e.g. ``("file",)`` for an archive that
    stores regular files only (its extraction has no empty folders and no links).
    """
    tree_dir = Path(tree_dir)
    if manifest is None:
        manifest = load_manifest(tree_dir)
    if not tree_dir.is_dir():
        return VerifyReport(False, [f"missing tree: {tree_dir}"])
    expected, found = _compare_sides(tree_dir, manifest, ignore_patterns, kinds)
    problems = _structural_problems(expected, found)
    to_hash = [
        (entry, found[entry.path])
        for entry in expected.values()
        if entry.kind == "file"
        and entry.path in found
        and found[entry.path].kind == "file"
        and found[entry.path].size == entry.size
    ]
    workers = max_workers or min(8, (os.cpu_count() or 1) + 2)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fixtures-verify") as pool:
        digests = pool.map(lambda pair: sha256_of(pair[1].full_path), to_hash)
        for (entry, _), digest in zip(to_hash, digests):
            if digest != entry.sha256:
                problems.append(f"changed: {entry.path} (content differs)")
    problems.sort()
    return VerifyReport(not problems, problems, checked_files=len(to_hash))


def quick_check(tree_dir: str | os.PathLike[str], manifest: Manifest) -> list[str]:
    """Kinds, sizes and link targets only: cheap enough to run before reusing a tree."""
    expected, found = _compare_sides(Path(tree_dir), manifest, (), ALL_KINDS)
    return _structural_problems(expected, found)


def _compare_sides(
    tree_dir: Path, manifest: Manifest, ignore_patterns: Sequence[str], kinds: Collection[str]
) -> tuple[dict[str, ManifestEntry], dict[str, WalkedEntry]]:
    ignored = excluder_for(tuple(ignore_patterns)).excludes
    expected = {
        entry.path: entry
        for entry in manifest.files
        if entry.kind in kinds and not ignored(entry.path)
    }
    found = {
        entry.path: entry
        for entry in walk_tree(tree_dir)
        if (entry.kind in kinds or entry.kind == "other") and not ignored(entry.path)
    }
    return expected, found


def _structural_problems(
    expected: dict[str, ManifestEntry], found: dict[str, WalkedEntry]
) -> list[str]:
    problems = []
    for path, entry in expected.items():
        actual = found.get(path)
        if actual is None:
            problems.append(f"missing: {path}")
        elif actual.kind != entry.kind:
            problems.append(f"changed: {path} (a {actual.kind}, expected a {entry.kind})")
        elif entry.kind == "file" and actual.size != entry.size:
            problems.append(f"changed: {path} (size {actual.size}, expected {entry.size})")
        elif entry.kind == "symlink" and actual.target != entry.target:
            problems.append(f"changed: {path} (link to {actual.target}, expected {entry.target})")
    problems.extend(f"extra: {path}" for path in found if path not in expected)
    return problems
