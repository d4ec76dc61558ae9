"""The manifest: a JSON file beside each tree with its recipe, seed and every entry's checksum.

``<out_dir>.manifest.json`` lies beside the tree (never inside it, so archiving the tree does not
archive the manifest). It is written last and atomically: a tree without one is incomplete. The
``digest`` is the SHA-256 of one canonical line per entry (kind, path, size, SHA-256, link
target) in path order; it depends on the tree's content only, not on the recipe's wording.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archive_parallel.atomic import atomic_write_text

from .errors import FixturesError

MANIFEST_FORMAT = "fixtures-gen-manifest"
MANIFEST_VERSION = 1
# Bump when a change to the generator changes the bytes a recipe produces (forces regeneration).
GENERATOR_VERSION = 1


def manifest_path_for(out_dir: str | os.PathLike[str]) -> Path:
    out_dir = Path(out_dir)
    return out_dir.with_name(out_dir.name + ".manifest.json")


@dataclass(frozen=True)
class ManifestEntry:
    path: str
    kind: str  # "file", "dir" or "symlink"
    size: int = 0
    sha256: str = ""
    target: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"path": self.path, "kind": self.kind}
        if self.kind == "file":
            data["size"] = self.size
            data["sha256"] = self.sha256
        if self.kind == "symlink":
            data["target"] = self.target
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ManifestEntry:
        return cls(
            path=data["path"],
            kind=data["kind"],
            size=int(data.get("size", 0)),
            sha256=data.get("sha256", ""),
            target=data.get("target"),
        )

    def digest_line(self) -> str:
        return f"{self.kind}\t{self.path}\t{self.size}\t{self.sha256}\t{self.target or ''}\n"


def tree_digest(entries: list[ManifestEntry]) -> str:
    hasher = hashlib.sha256()
    for entry in sorted(entries, key=lambda item: item.path):
        hasher.update(entry.digest_line().encode("utf-8"))
    return hasher.hexdigest()


@dataclass
class Manifest:
    profile: str
    scale: float
    seed: int
    recipe: dict[str, Any]
    files: list[ManifestEntry]
    digest: str = ""
    generator_version: int = GENERATOR_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.files = sorted(self.files, key=lambda item: item.path)
        if not self.digest:
            self.digest = tree_digest(self.files)

    @property
    def file_count(self) -> int:
        """Regular files (not folders, not links)."""
        return sum(1 for entry in self.files if entry.kind == "file")

    @property
    def total_bytes(self) -> int:
        return sum(entry.size for entry in self.files if entry.kind == "file")

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": MANIFEST_FORMAT,
            "manifest_version": MANIFEST_VERSION,
            "generator_version": self.generator_version,
            "profile": self.profile,
            "scale": self.scale,
            "seed": self.seed,
            "file_count": self.file_count,
            "total_bytes": self.total_bytes,
            "digest": self.digest,
            "recipe": self.recipe,
            **self.extra,
            "files": [entry.to_dict() for entry in self.files],
        }

    @classmethod
    def from_dict(cls, data: Any) -> Manifest:
        if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
            raise FixturesError("not a fixtures-gen manifest")
        known = {
            "format",
            "manifest_version",
            "generator_version",
            "profile",
            "scale",
            "seed",
            "file_count",
            "total_bytes",
            "digest",
            "recipe",
            "files",
        }
        return cls(
            profile=data["profile"],
            scale=float(data["scale"]),
            seed=int(data["seed"]),
            recipe=data.get("recipe", {}),
            files=[ManifestEntry.from_dict(entry) for entry in data["files"]],
            digest=data["digest"],
            generator_version=int(data.get("generator_version", 0)),
            extra={key: value for key, value in data.items() if key not in known},
        )


def load_manifest(out_dir: str | os.PathLike[str]) -> Manifest:
    """The manifest beside ``out_dir`` (or the manifest file itself when given one: a file
    named ``*.manifest.json``, or any existing file that is not a folder)."""
    path = Path(out_dir)
    if not path.name.endswith(".manifest.json") and not path.is_file():
        path = manifest_path_for(path)
    return read_manifest_file(path)


def read_manifest_file(path: str | os.PathLike[str]) -> Manifest:
    """The manifest in the file ``path``, whatever its name."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FixturesError(f"no manifest at {path}") from None
    except (OSError, ValueError) as error:
        raise FixturesError(f"unreadable manifest {path}: {error}") from error
    try:
        return Manifest.from_dict(data)
    except (KeyError, TypeError, ValueError) as error:
        raise FixturesError(f"invalid manifest {path}: {error}") from error


def save_manifest(manifest: Manifest, path: Path) -> None:
    """Write ``manifest`` to ``path`` atomically (temporary file, fsync, rename)."""
    text = json.dumps(manifest.to_dict(), indent=1, ensure_ascii=False) + "\n"
    atomic_write_text(path, text)
