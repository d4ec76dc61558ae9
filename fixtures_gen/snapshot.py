"""A snapshot of a real tree as a fixture: a copy with a manifest, so a sweep can run on it.

Generated trees stand in for a deploy package; a user's own package answers for itself (how
well its files compress with each codec, how many it has, how large they are). ``snapshot_tree``
copies a folder (regular files, folders and symbolic links, none followed; modes and
modification times kept) into ``out_dir`` and writes the manifest beside it, as ``make_tree``
does for a profile: the copy is made in ``<out_dir>.partial`` and renamed, the manifest is
written last, so an interrupted snapshot never looks complete. Each file is hashed while it is
copied. The source is listed before and after the copy (kind, size, modification time, link
target); a tree that changed in between is refused rather than snapshotted half old, half new.
A snapshot whose recorded source listing still matches the source is reused as it is.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import stat
from pathlib import Path

from .errors import FixturesError
from .generate import (
    BLOCK_OVERHEAD,
    ROOM_MARGIN,
    FreeSpaceProbe,
    check_room,
    disk_free,
    publish_tree,
    reusable_manifest,
)
from .manifest import Manifest, ManifestEntry, manifest_path_for
from .walk import WalkedEntry, walk_tree

logger = logging.getLogger(__name__)

_COPY_CHUNK = 1024 * 1024


def source_listing(source: Path) -> tuple[list[WalkedEntry], str]:
    """The entries of ``source`` and a digest of what a change would alter (kind, path, size,
    modification time in ns, link target)."""
    hasher = hashlib.sha256()
    try:
        entries = walk_tree(source)
        for entry in entries:
            mtime = os.lstat(entry.full_path).st_mtime_ns
            line = f"{entry.kind}\t{entry.path}\t{entry.size}\t{mtime}\t{entry.target or ''}\n"
            hasher.update(line.encode("utf-8", "surrogateescape"))
    except OSError as exc:
        raise FixturesError(f"cannot read {source}: {exc}") from exc
    return entries, hasher.hexdigest()


def snapshot_tree(
    source: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    name: str,
    *,
    free_space: FreeSpaceProbe | None = None,
) -> Manifest:
    """Copy the tree at ``source`` into ``out_dir`` with a manifest (profile ``name``), or
    reuse the snapshot already there when the source has not changed since it was taken.
    ``free_space`` replaces the free-space probe, as in ``make_tree``."""
    source, out_dir = Path(source).absolute(), Path(out_dir)
    if not source.is_dir():
        raise FixturesError(f"{source}: not a folder")
    entries, listing = source_listing(source)
    others = [entry.path for entry in entries if entry.kind == "other"]
    if others:
        logger.warning(
            "leaving out %d entries that are not files, folders or links (%s)",
            len(others),
            others[0],
        )
    if not any(entry.kind == "file" for entry in entries):
        raise FixturesError(f"{source}: no regular file to archive")
    existing = reusable_manifest(
        out_dir,
        lambda manifest: (
            manifest.extra.get("source") == str(source)
            and manifest.extra.get("source_listing") == listing
        ),
    )
    if existing is not None:
        logger.info("reusing the snapshot %s of %s (unchanged)", out_dir, source)
        return existing
    needed = sum(e.size for e in entries) + len(entries) * BLOCK_OVERHEAD + ROOM_MARGIN
    check_room(out_dir, manifest_path_for(out_dir), needed, free_space or disk_free)
    logger.info("copying %s into %s", source, out_dir)

    def build(partial_dir: Path) -> Manifest:
        try:
            files = _copy_entries(entries, partial_dir)
        except OSError as exc:  # a full disk, an unreadable file
            raise FixturesError(f"cannot copy {source}: {exc}") from exc
        if source_listing(source)[1] != listing:
            raise FixturesError(f"{source} changed while it was copied; take the snapshot again")
        return Manifest(
            profile=name,
            scale=1.0,
            seed=0,
            recipe={"snapshot_of": str(source)},
            files=files,
            extra={"source": str(source), "source_listing": listing},
        )

    return publish_tree(out_dir, build)


def _copy_entries(entries: list[WalkedEntry], into: Path) -> list[ManifestEntry]:
    """Recreate ``entries`` (folders listed before their contents) under ``into``; folder
    modes and times are set last, once nothing more is written into them."""
    files: list[ManifestEntry] = []
    folders: list[tuple[str, str]] = []
    for entry in entries:
        target = os.path.join(into, *entry.path.split("/"))
        if entry.kind == "dir":
            os.mkdir(target)
            folders.append((entry.full_path, target))
            files.append(ManifestEntry(entry.path, "dir"))
        elif entry.kind == "symlink":
            os.symlink(entry.target or "", target)
            files.append(ManifestEntry(entry.path, "symlink", target=entry.target))
        elif entry.kind == "file":
            size, digest = _copy_file(entry.full_path, target)
            files.append(ManifestEntry(entry.path, "file", size, digest))
    for source_folder, target in reversed(folders):  # writable by us: a sweep removes it
        status = os.stat(source_folder)
        os.chmod(target, stat.S_IMODE(status.st_mode) | stat.S_IRWXU)
        os.utime(target, ns=(status.st_atime_ns, status.st_mtime_ns))
    return files


def _copy_file(source: str, target: str) -> tuple[int, str]:
    hasher = hashlib.sha256()
    size = 0
    with open(source, "rb") as reader, open(target, "xb") as writer:
        while chunk := reader.read(_COPY_CHUNK):
            hasher.update(chunk)
            writer.write(chunk)
            size += len(chunk)
    shutil.copystat(source, target, follow_symlinks=False)
    return size, hasher.hexdigest()
