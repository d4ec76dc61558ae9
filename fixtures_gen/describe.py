"""describe: what a tree holds (counts, a size histogram) and how well it should compress.

Compressibility is estimated by sampling: the first 256 KiB of up to 400 files spread evenly
through the sorted listing are compressed with zlib level 6 (gzip -6's deflate); each sample's
ratio stands for its whole file, and the tree's ratio weighs files by size. Works on any folder;
when a manifest sits beside it, its profile, scale, seed and digest are shown too.
"""

from __future__ import annotations

import bisect
import os
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import FixturesError
from .manifest import load_manifest, manifest_path_for
from .walk import walk_tree

SAMPLE_PER_FILE = 256 * 1024
SAMPLE_FILES = 400
_BUCKETS = [0, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20, 16 << 20,
            64 << 20, 256 << 20, 1 << 30]  # fmt: skip


@dataclass
class TreeDescription:
    root: str
    file_count: int
    dir_count: int
    symlink_count: int
    total_bytes: int
    histogram: list[dict[str, Any]]
    estimated_gzip_ratio: float | None
    sampled_files: int
    manifest: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def describe_tree(tree_dir: str | os.PathLike[str]) -> TreeDescription:
    tree_dir = Path(tree_dir)
    if not tree_dir.is_dir():
        raise FixturesError(f"not a folder: {tree_dir}")
    entries = walk_tree(tree_dir)
    files = [entry for entry in entries if entry.kind == "file"]
    ratio, sampled = _estimate_ratio(files)
    manifest_info: dict[str, Any] = {}
    if manifest_path_for(tree_dir).is_file():
        manifest = load_manifest(tree_dir)
        manifest_info = {
            "profile": manifest.profile,
            "scale": manifest.scale,
            "seed": manifest.seed,
            "digest": manifest.digest,
        }
    return TreeDescription(
        root=str(tree_dir),
        file_count=len(files),
        dir_count=sum(1 for entry in entries if entry.kind == "dir"),
        symlink_count=sum(1 for entry in entries if entry.kind == "symlink"),
        total_bytes=sum(entry.size for entry in files),
        histogram=_histogram([entry.size for entry in files]),
        estimated_gzip_ratio=ratio,
        sampled_files=sampled,
        manifest=manifest_info,
    )


def _histogram(sizes: list[int]) -> list[dict[str, Any]]:
    """Files per bucket: empty, <= 1 KiB, <= 4 KiB, ... <= 1 GiB, > 1 GiB (empty rows dropped)."""
    counts = [0] * (len(_BUCKETS) + 1)
    totals = [0] * (len(_BUCKETS) + 1)
    for size in sizes:
        index = bisect.bisect_left(_BUCKETS, size)
        counts[index] += 1
        totals[index] += size
    rows = []
    for index, count in enumerate(counts):
        if not count:
            continue
        if index == 0:
            label = "empty"
        elif index < len(_BUCKETS):
            label = f"<= {_human(_BUCKETS[index])}"
        else:
            label = f"> {_human(_BUCKETS[-1])}"
        rows.append({"bucket": label, "files": count, "bytes": totals[index]})
    return rows


def _estimate_ratio(files: list) -> tuple[float | None, int]:
    candidates = [entry for entry in sorted(files, key=lambda item: item.path) if entry.size]
    if not candidates:
        return None, 0
    step = max(1, len(candidates) // SAMPLE_FILES)
    chosen = candidates[::step][:SAMPLE_FILES]
    raw_total = 0.0
    compressed_total = 0.0
    for entry in chosen:
        with open(entry.full_path, "rb") as handle:
            sample = handle.read(SAMPLE_PER_FILE)
        if not sample:
            continue
        compressor = zlib.compressobj(6)
        compressed = len(compressor.compress(sample)) + len(compressor.flush())
        raw_total += entry.size
        compressed_total += entry.size * compressed / len(sample)
    if not compressed_total:
        return None, 0
    return round(raw_total / compressed_total, 2), len(chosen)


def _human(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}".replace(".0 ", " ")
        size /= 1024
    return f"{size} B"


def format_description(description: TreeDescription) -> str:
    lines = [f"{description.root}"]
    if description.manifest:
        info = description.manifest
        lines.append(
            f"  profile {info['profile']}  scale {info['scale']}  seed {info['seed']}  "
            f"digest {info['digest'][:16]}"
        )
    lines.append(
        f"  {description.file_count:,} files, {description.dir_count:,} folders, "
        f"{description.symlink_count:,} links, {description.total_bytes:,} bytes "
        f"({_human(description.total_bytes)})"
    )
    if description.estimated_gzip_ratio is not None:
        lines.append(
            f"  estimated gzip -6 ratio {description.estimated_gzip_ratio:.2f}x "
            f"(sampled {description.sampled_files} files)"
        )
    lines.append("  size histogram:")
    width = max((row["files"] for row in description.histogram), default=1)
    for row in description.histogram:
        bar = "#" * max(1, round(30 * row["files"] / width))
        lines.append(
            f"    {row['bucket']:>12} {row['files']:>8,} files {_human(row['bytes']):>10}  {bar}"
        )
    return "\n".join(lines)
