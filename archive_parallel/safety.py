"""Safety checks of archive member names and link targets, and the extraction budget.

Names are judged lexically, before anything touches the disk: a name is normalised to a
relative posix path (``\\`` counts as a separator, ``.`` parts vanish, ``..`` pops a part)
and refused when it is empty, absolute (``/x``, ``\\x``), starts with a drive letter
(``C:\\x``, ``C:x``, ``A:B.txt``: a drive on Windows), climbs above the destination, holds
NUL or control characters, or is too long (over 4096 bytes, or a part over 255 bytes);
extraction also refuses a name nested more than 256 folders deep and a name
taken by its own work folders. Link targets get the same treatment relative to the link's
folder (symlinks) or the archive root (hardlinks). ``ExtractionBudget`` counts members and
bytes, declared by headers and actually written, and raises ``ArchiveLimitError`` past the
configured limits, so a bomb is stopped by its declared size before writing, or by the bytes
it really produces.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Container, Iterable, Sequence

from .config import ArchiveConfig
from .display import quoted
from .entries import EntryKind
from .errors import ArchiveLimitError, UnsafeArchiveError
from .link_resolver import MAX_HOPS, LinkResolver, TooManyLinks

logger = logging.getLogger(__name__)

MAX_NAME_BYTES = 4096
MAX_COMPONENT_BYTES = 255
#: folders a member may sit in, one inside the other: far more than any real tree needs, and
#: few enough that every walk of the staged tree (and its removal) stays well within Python's
#: recursion limit
MAX_NAME_DEPTH = 256

_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: a part of a name no rule can object to: printable ASCII but "/", ":" and "\\", not "."
#: or ".."; a part cannot hold "/", so a name matches one way only (no backtracking)
_PLAIN_PART = r"(?!\.\.?(?:/|$))[\x20-\x2e\x30-\x39\x3b-\x5b\x5d-\x7e]+"
_PLAIN = re.compile(f"{_PLAIN_PART}(?:/{_PLAIN_PART})*")


class _ClimbsOut(ValueError):
    """``_normalise``'s refusal of a name whose ``..`` parts lead above the destination: told
    apart from its other refusals so that a link target is said to point outside only when it
    does."""


def _encoded_len(text: str) -> int:
    return len(text.encode("utf-8", "surrogateescape"))


def is_plain_name(name: str) -> bool:
    """True when ``name`` is certainly in normal form already (most names of real trees and
    archives), in one match: plain parts (``_PLAIN_PART``) one "/" apart, and short enough
    that no part can be too long. False says nothing: the full rules decide."""
    return len(name) <= MAX_COMPONENT_BYTES and _PLAIN.fullmatch(name) is not None


def _drive_prefix(name: str) -> str:
    """Why a name or target that starts with a drive letter (``_DRIVE``) is refused."""
    return f"starts with a drive-letter prefix {name[:2]!r}, which Windows takes as a drive"


def _normalise(name: str) -> str:
    """The normalised relative posix form of ``name``; raises ValueError with the reason."""
    if isinstance(name, str) and name:  # the common case first: already normal
        bare = name[:-1] if name[-1] == "/" else name  # a folder entry's trailing "/"
        if is_plain_name(bare):
            return bare
    return _normalise_any(name)


def _normalise_any(name: str, whole_limit: bool = True) -> str:
    """``_normalise`` for any name, part by part; ``whole_limit=False`` leaves out the limit
    on the whole name's length (a link target joined to its link's folder: the system
    resolves it a part at a time, so only the parts and the target itself are limited)."""
    if not isinstance(name, str) or name == "":
        raise ValueError("empty name")
    if _CONTROL.search(name):
        raise ValueError("name contains NUL or control characters")
    size = _encoded_len(name)
    if whole_limit and size > MAX_NAME_BYTES:
        raise ValueError(f"name longer than {MAX_NAME_BYTES} bytes")
    long_parts = size > MAX_COMPONENT_BYTES  # else no part can be too long
    if name.startswith(("/", "\\")):
        raise ValueError("absolute path")
    if _DRIVE.match(name):
        raise ValueError(f"name {_drive_prefix(name)}")
    parts: list[str] = []
    for part in name.replace("\\", "/").split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise _ClimbsOut("path climbs out of the destination with '..'")
            parts.pop()
            continue
        if long_parts and _encoded_len(part) > MAX_COMPONENT_BYTES:
            raise ValueError(f"path component longer than {MAX_COMPONENT_BYTES} bytes")
        parts.append(part)
    return "/".join(parts)


def normalise_member_name(name: str) -> str:
    """Like ``check_member_name`` but returns ``""`` for the archive root (``.``, ``./``)."""
    try:
        return _normalise(name)
    except ValueError as exc:
        raise UnsafeArchiveError(str(name), str(exc)) from None


def is_safe_path(name: str) -> bool:
    """True for an ordinary relative member name that stays inside the destination."""
    try:
        _normalise(name)
    except ValueError:
        return False
    return True


def check_member_name(name: str) -> str:
    """The normalised relative posix path of ``name``, or ``UnsafeArchiveError``."""
    normalised = normalise_member_name(name)
    if not normalised:
        raise UnsafeArchiveError(str(name), "name refers to the destination folder itself")
    return normalised


def check_extracted_name(raw_name: str, name: str, reserved_prefix: str) -> None:
    """Rules for a normalised member ``name`` that only extraction needs: no more than
    ``MAX_NAME_DEPTH`` folders deep, and not starting with ``reserved_prefix`` (the name of
    extraction's own work folders in a destination, which the checks of a destination's
    links and the removal of stale work folders leave to extraction itself)."""
    if name.count("/") >= MAX_NAME_DEPTH:
        raise UnsafeArchiveError(raw_name, f"nested more than {MAX_NAME_DEPTH} folders deep")
    if name.startswith(reserved_prefix):
        raise UnsafeArchiveError(
            raw_name,
            f"names starting with {reserved_prefix!r} are reserved for extraction's "
            "own work folders",
        )


def resolve_link(resolver: LinkResolver, path: str, member: str) -> str:
    """``resolver.resolve(path)``; a path through more symlinks than the system follows
    (``link_resolver.MAX_HOPS``) is ``UnsafeArchiveError`` naming ``member``."""
    try:
        return resolver.resolve(path)
    except TooManyLinks:
        raise UnsafeArchiveError(
            member, f"goes through more than {MAX_HOPS} symlinks, more than the system follows"
        ) from None


def check_link_target(
    member_name: str,
    target: str,
    kind: EntryKind,
    earlier_files: Container[str] | None = None,
) -> str:
    """Check a link member's target; return it normalised relative to the destination.

    ``kind`` ``EntryKind.SYMLINK``: the target must be relative and, resolved against the
    member's folder, stay inside the destination. ``EntryKind.HARDLINK``: the target is an
    archive member name that must be an earlier regular file (``earlier_files``, when given).
    """
    if kind == EntryKind.SYMLINK:
        if not target:
            raise UnsafeArchiveError(member_name, "symlink with an empty target")
        if _CONTROL.search(target):
            raise UnsafeArchiveError(member_name, "symlink target contains control characters")
        if target.startswith(("/", "\\")):
            raise UnsafeArchiveError(member_name, f"symlink to an absolute path {quoted(target)}")
        if _DRIVE.match(target):
            raise UnsafeArchiveError(
                member_name, f"symlink target {quoted(target)} {_drive_prefix(target)}"
            )
        if _encoded_len(target) > MAX_NAME_BYTES:
            raise UnsafeArchiveError(
                member_name, f"symlink target longer than {MAX_NAME_BYTES} bytes"
            )
        folder = posix_dirname(check_member_name(member_name))
        joined = f"{folder}/{target}" if folder else target
        try:
            resolved = joined if is_plain_name(joined) else _normalise_any(joined, False)
        except _ClimbsOut:
            raise UnsafeArchiveError(
                member_name, f"symlink target {quoted(target)} points outside the destination"
            ) from None
        except ValueError as exc:  # too long: say so, not "outside"
            raise UnsafeArchiveError(
                member_name, f"symlink target {quoted(target)}: {exc}"
            ) from None
        return resolved
    if kind == EntryKind.HARDLINK:
        try:
            resolved = check_member_name(target)
        except UnsafeArchiveError as exc:
            raise UnsafeArchiveError(
                member_name, f"hardlink target {quoted(target)}: {exc.reason}"
            ) from None
        if earlier_files is not None and resolved not in earlier_files:
            raise UnsafeArchiveError(
                member_name, f"hardlink target {quoted(target)} is not an earlier regular file"
            )
        return resolved
    raise UnsafeArchiveError(member_name, f"unknown link kind {kind!r}")


def posix_dirname(name: str) -> str:
    return name.rpartition("/")[0]


def is_within(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> bool:
    """True when ``path`` (already resolved) lies inside ``root`` (already resolved)."""
    path, root = os.fspath(path), os.fspath(root)
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


class ExtractionBudget:
    """Counts members and bytes of one extraction; raises ``ArchiveLimitError`` past limits.

    Bytes are charged twice: as declared by a member's header (before writing, so a huge
    declared size is refused at once) and as actually written (so a member that lies about its
    size is stopped too). The ratio limit compares the larger of the two totals with the
    archive's size, once that total is past ``ratio_check_threshold``. Safe to use from many
    threads.
    """

    def __init__(self, config: ArchiveConfig, archive_size: int) -> None:
        self.max_bytes = int(config.max_extract_size)
        self.max_members = int(config.max_member_count)
        self.max_ratio = float(config.max_compression_ratio)
        self.ratio_threshold = int(config.ratio_check_threshold)
        self.archive_size = max(1, int(archive_size))
        self.members = 0
        self.declared_bytes = 0
        self.written_bytes = 0
        self._lock = threading.Lock()

    def add_member(self, name: str) -> None:
        self.add_members((name,))

    def add_members(self, names: Sequence[str]) -> None:
        """Count ``names`` as members (a zip's whole directory at once: one lock), refusing
        the first one past ``max_member_count``."""
        with self._lock:
            room = self.max_members - self.members
            if len(names) > room:
                self.members = self.max_members + 1
                raise ArchiveLimitError(
                    names[max(0, room)], f"more than {self.max_members} members (max_member_count)"
                )
            self.members += len(names)

    def declare(self, name: str, size: int) -> None:
        self.declare_all(((name, size),))

    def declare_all(self, sizes: Iterable[tuple[str, int]]) -> None:
        """Charge each ``(name, size)`` as declared by its header (a zip's whole directory at
        once: one lock), refusing a negative size and naming the member whose size crosses
        a limit."""
        with self._lock:
            total = self.declared_bytes
            floor = min(self.ratio_threshold, self.max_bytes)  # below both: nothing to check
            for name, size in sizes:
                if size < 0:
                    raise UnsafeArchiveError(name, f"negative declared size {size}")
                total += int(size)
                if total > floor:
                    self._check(name, total, "declared")
            self.declared_bytes = total

    def wrote(self, name: str, nbytes: int) -> None:
        with self._lock:
            self.written_bytes += int(nbytes)
            self._check(name, self.written_bytes, "written")

    def _check(self, name: str, total: int, how: str) -> None:
        if total > self.max_bytes:
            raise ArchiveLimitError(
                name,
                f"{how} size {total} bytes exceeds max_extract_size {self.max_bytes}",
            )
        if total > self.ratio_threshold:
            ratio = total / self.archive_size
            if ratio > self.max_ratio:
                raise ArchiveLimitError(
                    name,
                    f"{how} size {total} bytes is {ratio:.0f} times the archive's "
                    f"{self.archive_size} bytes (max_compression_ratio {self.max_ratio:g})",
                )
