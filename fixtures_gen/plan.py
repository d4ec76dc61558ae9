"""The planner: profile + scale + seed -> every path, size, content and link target, in memory.

Planning writes nothing and takes well under a second even for 20,000 files. All randomness
comes from generators seeded by ``derive_seed(seed, profile, purpose, group)``, consumed in the
profile's group order, so the plan is identical everywhere. Each file also gets its own content
seed, so files can then be written in any order, by any number of threads, with the same bytes.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from .names import (
    FILE_WORDS,
    NameRegistry,
    dir_component,
    long_name,
    unicode_name,
    word_name,
)
from .profiles import Group, Profile
from .seeds import derive_seed, rng_for
from .sizes import plan_sizes


@dataclass(frozen=True)
class PlannedFile:
    path: str
    size: int
    content: str
    seed: int
    group: str


@dataclass(frozen=True)
class PlannedLink:
    path: str
    target: str


@dataclass(frozen=True)
class TreePlan:
    files: tuple[PlannedFile, ...]
    dirs: tuple[str, ...]
    links: tuple[PlannedLink, ...]

    @property
    def total_bytes(self) -> int:
        return sum(planned.size for planned in self.files)


def scaled_extra(count: int, scale: float) -> int:
    """How many symlinks or empty folders a profile gets at ``scale`` (at least 1 if any)."""
    return 0 if count <= 0 else max(1, round(count * scale))


def plan_tree(profile: Profile, scale: float, seed: int) -> TreePlan:
    registry = NameRegistry()
    counts = profile.group_counts(scale)
    by_group: dict[str, list[PlannedFile]] = {}
    files: list[PlannedFile] = []
    for group in profile.groups:
        count = counts[group.name]
        sizes = plan_sizes(
            group.scaled_size(scale), count, rng_for(seed, profile.name, "sizes", group.name)
        )
        rng = rng_for(seed, profile.name, "paths", group.name)
        if group.mirror is not None:
            paths = _mirror_paths(group, by_group[group.mirror], count, rng, registry)
        elif group.fixed_name is not None:
            paths = _fixed_name_paths(group, count, rng, registry)
        else:
            paths = [_new_path(group, index, rng, registry) for index in range(count)]
        planned = [
            PlannedFile(
                path=path,
                size=size,
                content=group.content,
                seed=derive_seed(seed, profile.name, "content", group.name, index),
                group=group.name,
            )
            for index, (path, size) in enumerate(zip(paths, sizes, strict=True))
        ]
        by_group[group.name] = planned
        files.extend(planned)

    rng = rng_for(seed, profile.name, "extras")
    for _ in range(scaled_extra(profile.empty_dirs, scale)):
        parent = rng.choice(["", *sorted(registry.dirs)])
        base = posixpath.join(parent, f"empty-{rng.choice(FILE_WORDS)}")
        candidate, number = base, 1
        while registry.has_dir(candidate) or not registry.can_be_dir(candidate):
            number += 1
            candidate = f"{base}-{number}"
        registry.add_dir(candidate)

    links: list[PlannedLink] = []
    ordered_files = sorted(files, key=lambda item: item.path)
    for _ in range(scaled_extra(profile.symlinks, scale) if ordered_files else 0):
        target = rng.choice(ordered_files).path
        folder = rng.choice(["", *sorted(registry.dirs)])
        path = registry.add_file(folder, f"link-{posixpath.basename(target)}")
        links.append(PlannedLink(path, posixpath.relpath(target, folder or ".")))

    return TreePlan(
        files=tuple(ordered_files),
        dirs=tuple(sorted(registry.dirs)),
        links=tuple(sorted(links, key=lambda item: item.path)),
    )


def _new_path(group: Group, index: int, rng, registry: NameRegistry) -> str:
    parts = [group.root] if group.root else []
    levels = group.depth if group.names == "long" else rng.randint(0, group.depth)
    for level in range(levels):
        parts.append(dir_component(rng, level, group.fanout))
    folder = "/".join(parts)
    if not registry.can_be_dir(folder):
        folder = group.root
    extension = rng.choice(group.extensions)
    if group.names == "unicode":
        name = unicode_name(rng, index, extension)
    elif group.names == "long":
        name = long_name(rng, extension)
    else:
        name = word_name(rng, extension)
    return registry.add_file(folder, name)


def _mirror_paths(
    group: Group, sources: list[PlannedFile], count: int, rng, registry: NameRegistry
) -> list[str]:
    """Companions of ``count`` source files, e.g. ``pkg/__pycache__/mod.cpython-311.pyc``."""
    chosen = sorted(rng.sample(range(len(sources)), count))
    paths = []
    for index in chosen:
        source = sources[index].path
        folder = posixpath.dirname(source)
        if group.leaf_dir:
            folder = posixpath.join(folder, group.leaf_dir) if folder else group.leaf_dir
        stem = posixpath.basename(source).split(".", 1)[0]
        paths.append(registry.add_file(folder, stem + rng.choice(group.extensions)))
    return paths


def _fixed_name_paths(group: Group, count: int, rng, registry: NameRegistry) -> list[str]:
    """``count`` files named ``group.fixed_name``, each in a different folder under its root."""
    root = group.root
    prefix = root + "/" if root else ""
    candidates = sorted(
        folder
        for folder in registry.dirs
        if folder.startswith(prefix) and "__pycache__" not in folder.split("/")
    )
    if not root or registry.can_be_dir(root):
        candidates.insert(0, root)
    chosen = rng.sample(candidates, min(count, len(candidates)))
    number = 0
    while len(chosen) < count:
        number += 1
        extra = posixpath.join(root, f"misc-{number}") if root else f"misc-{number}"
        if registry.can_be_dir(extra) and extra not in chosen:
            chosen.append(extra)
    return [registry.add_file(folder, group.fixed_name or "") for folder in sorted(chosen)]
