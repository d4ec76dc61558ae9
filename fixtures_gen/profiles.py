"""Profiles: named, documented recipes for trees, and custom ones read from TOML or JSON.

A Profile is a list of Groups. A group is "n files of this size distribution and this content,
under this folder, this deep": the planner (``plan.py``) turns it into concrete paths and sizes.
``--scale`` multiplies each group's file count (``scale_by = "count"``, the default: the same
kinds of files, fewer or more of them) or each file's size (``scale_by = "size"``, for profiles
of a few huge files). Counts are rounded and never drop below ``min_count``, so every kind of
entry survives small scales. ``documented_files``/``documented_bytes`` are the figures
``docs/fixtures.md`` promises at scale 1; the test suite checks the recipe arithmetic against
them.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .content import parse_content
from .errors import FixturesError
from .sizes import SizeSpec, planned_total

NAME_STYLES = ("words", "unicode", "long")
SCALE_MODES = ("count", "size")
_UNSAFE_CHARACTERS = frozenset('\\:*?"<>|')  # separators or illegal on Windows


def _unportable(text: str) -> bool:
    return any(char in _UNSAFE_CHARACTERS or ord(char) < 32 for char in text)


def _path_problem(value: str, single_name: bool = False) -> str | None:
    """Why ``value`` is not a relative path that stays inside the tree (``single_name``: not
    one name, without ``/``); None when it is one."""
    if not value:
        return "is empty"
    if value.startswith("/"):
        return "is an absolute path; it must be relative to the tree"
    parts = value.split("/")
    if single_name and len(parts) > 1:
        return "must be a single name, without '/'"
    if "" in parts:
        return "has an empty part (a doubled or trailing '/')"
    if "." in parts or ".." in parts:
        return "has a '.' or '..' part; it must stay inside the tree"
    if _unportable(value):
        return 'has a character that is not portable in a name (\\ : * ? " < > | or a control)'
    return None


# The keys a profile file may hold, and the type of each (float: any number; None is also
# accepted for the optional keys whose default is None).
_PROFILE_KEYS: dict[str, type] = {
    "name": str,
    "description": str,
    "groups": object,  # a list of tables of _GROUP_KEYS: checked apart
    "symlinks": int,
    "empty_dirs": int,
    "documented_files": int,
    "documented_bytes": int,
    "notes": list,
}
_GROUP_KEYS: dict[str, type] = {
    "name": str,
    "count": int,
    "size": object,  # a whole number of bytes or a table of _SIZE_KEYS: checked apart
    "content": str,
    "root": str,
    "depth": int,
    "fanout": int,
    "extensions": list,
    "names": str,
    "fixed_name": str,
    "mirror": str,
    "leaf_dir": str,
    "scale_by": str,
    "min_count": int,
}
_SIZE_KEYS: dict[str, type] = {
    "dist": str,
    "value": int,
    "min": int,
    "max": int,
    "mean": int,
    "sigma": float,
}
_MAY_BE_NONE = frozenset(
    {"fixed_name", "mirror", "leaf_dir", "documented_files", "documented_bytes"}
)
_TYPE_WORDS = {int: "a whole number", float: "a number", str: "a string", list: "a list"}


def _shown(value: Any) -> str:
    return f"a {type(value).__name__}" if isinstance(value, (list, dict)) else repr(value)


def _checked(
    data: Any, keys: dict[str, type], where: str, required: tuple[str, ...] = ()
) -> dict[str, Any]:
    """``data`` when it is a table of ``keys`` of their types, holding ``required``;
    ``FixturesError`` naming ``where`` and the key otherwise."""
    if not isinstance(data, dict):
        raise FixturesError(f"{where or 'a profile'} must be a table of keys, not {_shown(data)}")
    where = f"{where}: " if where else ""
    unknown = sorted(set(data) - set(keys))
    if unknown:
        raise FixturesError(f"{where}unknown keys {unknown}; known: {', '.join(keys)}")
    for key in required:
        if key not in data:
            raise FixturesError(f"{where}{key} is missing")
    for key, value in data.items():
        kind = keys[key]
        if kind is object or (value is None and key in _MAY_BE_NONE):
            continue
        ok = isinstance(value, (int, float) if kind is float else kind)
        if isinstance(value, bool) or not ok:
            raise FixturesError(f"{where}{key} must be {_TYPE_WORDS[kind]}, not {_shown(value)}")
        if kind is list and not all(isinstance(item, str) for item in value):
            raise FixturesError(f"{where}{key} must be a list of strings, not {value!r}")
    return data


@dataclass(frozen=True)
class Group:
    """One kind of file in a profile (see ``docs/fixtures.md`` for every field)."""

    name: str
    count: int
    size: SizeSpec
    content: str = "text"
    root: str = ""
    depth: int = 0
    fanout: int = 4
    extensions: tuple[str, ...] = (".txt",)
    names: str = "words"
    fixed_name: str | None = None
    mirror: str | None = None
    leaf_dir: str | None = None
    scale_by: str = "count"
    min_count: int = 1

    def __post_init__(self) -> None:
        try:
            parse_content(self.content)
        except ValueError as error:
            raise FixturesError(f"group {self.name}: content: {error}") from None
        for key, value, single_name in (
            ("root", self.root or None, False),  # "" (the default): the top of the tree
            ("fixed_name", self.fixed_name, True),
            ("leaf_dir", self.leaf_dir, True),
        ):
            problem = None if value is None else _path_problem(value, single_name)
            if problem:
                raise FixturesError(f"group {self.name}: {key} {value!r} {problem}")
        if not self.extensions:
            raise FixturesError(f"group {self.name}: extensions must list at least one")
        for extension in self.extensions:
            if "/" in extension or _unportable(extension):
                raise FixturesError(
                    f"group {self.name}: extension {extension!r} must be the end of a name, "
                    'without / \\ : * ? " < > | or control characters'
                )
        if self.names not in NAME_STYLES:
            raise FixturesError(f"group {self.name}: names must be one of {NAME_STYLES}")
        if self.scale_by not in SCALE_MODES:
            raise FixturesError(f"group {self.name}: scale_by must be one of {SCALE_MODES}")
        for key, lowest in (("count", 0), ("depth", 0), ("fanout", 1), ("min_count", 0)):
            if getattr(self, key) < lowest:
                raise FixturesError(f"group {self.name}: {key} must be >= {lowest}")

    def scaled_count(self, scale: float) -> int:
        if self.count == 0:
            return 0
        if self.scale_by == "size":
            return self.count
        return max(self.min_count, round(self.count * scale))

    def scaled_size(self, scale: float) -> SizeSpec:
        return self.size.scaled(scale) if self.scale_by == "size" else self.size

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        defaults = Group(name="x", count=0, size=SizeSpec())
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name in ("name", "count", "size") or value != getattr(defaults, item.name):
                data[item.name] = value
        data["size"] = self.size.to_dict()
        if "extensions" in data:
            data["extensions"] = list(self.extensions)
        return data

    @classmethod
    def from_dict(cls, data: Any, where: str = "group") -> Group:
        """A group from a profile file's table; ``FixturesError`` naming ``where`` (or the
        group's name) and the key that is wrong."""
        if isinstance(data, dict) and isinstance(data.get("name"), str):
            where = f"group {data['name']}"
        data = dict(_checked(data, _GROUP_KEYS, where, required=("name", "count")))
        size = data.pop("size", 0)
        if isinstance(size, int) and not isinstance(size, bool):
            size = {"dist": "fixed", "value": size}
        elif not isinstance(size, dict):
            raise FixturesError(
                f"{where}: size must be a whole number of bytes or a table "
                f"(dist, value, min, max, mean, sigma), not {_shown(size)}"
            )
        try:
            spec = SizeSpec(**_checked(size, _SIZE_KEYS, f"{where}: size"))
        except ValueError as error:
            raise FixturesError(f"{where}: size: {error}") from None
        if "extensions" in data:
            data["extensions"] = tuple(data["extensions"])
        return cls(size=spec, **data)


@dataclass(frozen=True)
class Profile:
    """A named recipe: groups of files plus symlinks and empty folders."""

    name: str
    description: str
    groups: tuple[Group, ...]
    symlinks: int = 0
    empty_dirs: int = 0
    documented_files: int | None = None
    documented_bytes: int | None = None
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        for key in ("symlinks", "empty_dirs"):
            if getattr(self, key) < 0:
                raise FixturesError(f"profile {self.name}: {key} must be >= 0")
        names = [group.name for group in self.groups]
        if len(set(names)) != len(names):
            raise FixturesError(f"profile {self.name}: group names must be unique")
        for group in self.groups:
            if group.mirror is not None and group.mirror not in names[: names.index(group.name)]:
                raise FixturesError(
                    f"profile {self.name}: group {group.name} mirrors {group.mirror!r}, "
                    "which must be an earlier group"
                )

    def group_counts(self, scale: float) -> dict[str, int]:
        """Files per group at ``scale`` (mirror groups never outnumber their source)."""
        counts: dict[str, int] = {}
        for group in self.groups:
            count = group.scaled_count(scale)
            if group.mirror is not None:
                count = min(count, counts[group.mirror])
            counts[group.name] = count
        return counts

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "groups": [group.to_dict() for group in self.groups],
        }
        for key in ("symlinks", "empty_dirs", "documented_files", "documented_bytes"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        return data

    @classmethod
    def from_dict(cls, data: Any) -> Profile:
        """A profile from plain values (a profile file's contents); ``FixturesError`` naming
        the key that is wrong."""
        data = dict(_checked(data, _PROFILE_KEYS, "", required=("name", "groups")))
        if not isinstance(data["groups"], list):
            raise FixturesError(f"groups must be a list of tables, not {_shown(data['groups'])}")
        if not data["groups"]:
            raise FixturesError("groups must list at least one group")
        groups = tuple(
            Group.from_dict(group, f"group {number}")
            for number, group in enumerate(data.pop("groups"), start=1)
        )
        return cls(
            groups=groups,
            description=data.pop("description", ""),
            notes=tuple(data.pop("notes", ())),
            **data,
        )


def estimate_file_count(profile: str | Profile, scale: float = 1.0) -> int:
    """Regular files the profile makes at ``scale`` (exact, the same for every seed)."""
    return sum(resolve_profile(profile).group_counts(scale).values())


def estimate_bytes(profile: str | Profile, scale: float = 1.0) -> int:
    """Bytes of regular-file content at ``scale`` (exact, the same for every seed)."""
    profile = resolve_profile(profile)
    counts = profile.group_counts(scale)
    return sum(
        planned_total(group.scaled_size(scale), counts[group.name]) for group in profile.groups
    )


def nominal_gzip_ratio(profile: str | Profile, scale: float = 1.0) -> float:
    """The gzip -6 ratio the recipe aims at: bytes over the sum of each group's compressed bytes."""
    profile = resolve_profile(profile)
    counts = profile.group_counts(scale)
    total = 0
    compressed = 0.0
    for group in profile.groups:
        size = planned_total(group.scaled_size(scale), counts[group.name])
        total += size
        compressed += size / parse_content(group.content).nominal_ratio
    return total / compressed if compressed else 1.0


def resolve_profile(profile: str | Profile) -> Profile:
    return profile if isinstance(profile, Profile) else get_profile(profile)


def get_profile(name: str) -> Profile:
    """The built-in profile ``name`` (see ``PROFILES``)."""
    from .builtin import PROFILES

    try:
        return PROFILES[name]
    except KeyError:
        raise FixturesError(
            f"unknown profile {name!r}; known: {', '.join(sorted(PROFILES))}"
        ) from None


def load_profile_file(path: str | Path) -> Profile:
    """A custom profile from a ``.toml`` or ``.json`` file (same keys as ``Profile.to_dict``)."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".toml":
            with path.open("rb") as handle:
                data = tomllib.load(handle)
        else:
            data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise FixturesError(f"cannot read profile file {path}: {error}") from error
    try:
        return Profile.from_dict(data)
    except FixturesError as error:
        raise FixturesError(f"invalid profile {path}: {error}") from None
