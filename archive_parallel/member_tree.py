"""The tree an archive's members make, judged by their names alone: what extraction refuses
of an archive before a byte of it lands anywhere.

``MemberTree.add`` takes each member in archive order, with its kind and link target, and
registers it under its normalised name (``safety``'s rules for names and link targets). It
refuses, with ``UnsafeArchiveError`` naming the member: a duplicate name, a file or link
replacing a folder or a folder replacing one, a member below one that is not a folder (``lnk``
then ``lnk/file``), a hardlink to anything but an earlier regular file, a symlink whose target
is absolute or climbs out of its tree. Names are compared the way the destination's file
system compares them (``fs_semantics``; every spelling apart unless told otherwise): where it
ignores case or Unicode normalisation, a member whose name collides with an earlier one is
taken as that same path, so the rules above apply to it, and a refusal names both members.
``check_symlinks`` then resolves each symlink through the others (``link_resolver``) and
refuses one that leads outside, so a chain of links that are each harmless cannot escape.

Extraction's staged tree (``extract.staged_tree``) is a ``MemberTree`` that also makes the
folders on disk and resolves its symlinks there, once they exist; ``verify`` uses one alone,
with no disk behind it, and so refuses what extraction would refuse of the archive itself.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from .display import quoted, spelled_out
from .entries import EntryKind
from .errors import UnsafeArchiveError
from .fs_semantics import CASE_SENSITIVE, NameSemantics
from .leftovers import STAGING_PREFIX
from .link_resolver import LinkResolver
from .safety import (
    check_extracted_name,
    check_link_target,
    check_member_name,
    is_within,
    normalise_member_name,
    posix_dirname,
    resolve_link,
)

# the kinds, looked up once (an enum member's lookup costs more than the rest of a check)
_FILE, _DIR, _IMPLICIT_DIR = EntryKind.FILE, EntryKind.DIR, EntryKind.IMPLICIT_DIR
_SYMLINK, _HARDLINK = EntryKind.SYMLINK, EntryKind.HARDLINK
_DIRS = (_DIR, _IMPLICIT_DIR)
#: the kinds ``files`` lists
_LISTED = (_FILE, _SYMLINK, _HARDLINK)

#: where the members of a tree with no disk behind it lie when its links are resolved: a
#: name no link target can spell (a target holding a control character is refused), so a
#: path that has left it never comes back in
_DETACHED_ROOT = os.sep + "\x00members"


class MemberTree:
    """Names, kinds and links of the members of one archive, registered in archive order."""

    def __init__(self, names: NameSemantics = CASE_SENSITIVE) -> None:
        #: how the destination's file system compares names
        self.names = names
        self._folds = names.folds
        #: folded key -> the spelling registered first, and the member that brought it
        self._spellings: dict[str, tuple[str, str]] = {}
        self.kinds: dict[str, EntryKind] = {}
        self.files: list[str] = []  # regular files and links, in archive order
        self.regular_files: set[str] = set()
        #: (name, target, mtime to give the link, None to leave it)
        self.symlinks: list[tuple[str, str, float | None]] = []
        #: (name, the earlier regular file it names)
        self.hardlinks: list[tuple[str, str]] = []

    def path(self, name: str) -> str:
        """Where member ``name`` lies (with no disk behind the tree: below a detached root)."""
        return os.sep.join((_DETACHED_ROOT, *name.split("/")))

    # --- members ---
    def add(
        self, raw_name: str, kind: EntryKind, linkname: str = "", mtime: float | None = None
    ) -> str | None:
        """Check and record a member of ``kind`` (``FILE``, ``DIR``, ``SYMLINK`` or
        ``HARDLINK``; ``linkname``: a link's target; ``mtime``: a symlink's, kept for it).
        Returns its normalised name; None for the archive root (``.``), accepted and ignored."""
        if kind is _FILE:
            return self.register(raw_name, kind)
        if kind is _DIR:
            return self.add_folder(raw_name)
        if kind is _SYMLINK:
            return self.add_symlink(raw_name, linkname, mtime)
        if kind is _HARDLINK:
            return self.add_hardlink(raw_name, linkname)
        return self.register(raw_name, kind)

    def add_folder(self, raw_name: str) -> str | None:
        """Register a folder member; the archive root (``.``) is accepted and ignored."""
        if not normalise_member_name(raw_name):
            return None
        return self.register(raw_name, _DIR)

    def add_symlink(self, raw_name: str, target: str, mtime: float | None = None) -> str:
        """Register a symlink whose target, seen from its folder, stays inside the tree."""
        check_link_target(raw_name, target, _SYMLINK)
        name = self.register(raw_name, _SYMLINK)
        self.symlinks.append((name, target, mtime))
        return name

    def add_hardlink(self, raw_name: str, target: str) -> str:
        """Register a hardlink to an earlier regular file of the archive."""
        resolved = check_link_target(raw_name, target, _HARDLINK, self.regular_files)
        name = self.register(raw_name, _HARDLINK)
        self.hardlinks.append((name, resolved))
        return name

    def register(self, raw_name: str, kind: EntryKind) -> str:
        """Check and record a member; record its parent folders. Returns its normalised name
        (the earlier spelling when the file system takes it for an earlier member's path)."""
        spelled = check_member_name(raw_name)
        check_extracted_name(raw_name, spelled, STAGING_PREFIX)
        if not self._folds:  # the common case, without a call
            return self._register(raw_name, spelled, kind)
        name, other = self._same_path(spelled)
        if other is None:
            return self._register(raw_name, name, kind)
        try:
            return self._register(raw_name, name, kind)
        except UnsafeArchiveError as exc:
            reason = (
                f"{exc.reason}: it is the same path as member {quoted(other)} on the "
                f"destination's file system, which {self.names.describe()}"
            )
            if not (raw_name.isascii() and other.isascii()):  # NFC and NFD look the same
                reason += f" (written {spelled_out(raw_name)} and {spelled_out(other)})"
            raise UnsafeArchiveError(raw_name, reason) from None

    def folder_added(self, raw_name: str, name: str) -> None:
        """Called for each folder as it is registered (member ``raw_name`` named it, or a
        member below it); extraction makes it on disk."""

    def _same_path(self, name: str) -> tuple[str, str | None]:
        """``name`` with each leading part that collides with a registered path spelled as that
        path was; and the member behind the first collision (None when there is none).

        The key of a path is the keys of its parts joined by "/" (folding acts on each
        character, and "/" folds to itself), so each part is folded once and each prefix's
        key grows by one part: the cost is linear in the name's length, not quadratic."""
        if not self._folds:
            return name, None
        parts = name.split("/")
        spelled = key = ""
        first_other = None
        for i, part in enumerate(parts):
            part_key = self.names.key(part)
            key = f"{key}/{part_key}" if i else part_key
            known = self._spellings.get(key)
            if known is None:
                rest = "/".join(parts[i:])
                return (f"{spelled}/{rest}" if spelled else rest), first_other
            # the registered spelling of this prefix extends ``spelled``: compare its last part
            if known[0].rpartition("/")[2] != part and first_other is None:
                first_other = known[1]
            spelled = known[0]
        return spelled, first_other

    def _remember(self, name: str, member: str) -> None:
        self._spellings.setdefault(self.names.key(name), (name, member))

    def _register(self, raw_name: str, name: str, kind: EntryKind) -> str:
        existing = self.kinds.get(name)
        if existing is not None:
            if kind is _DIR and existing is _IMPLICIT_DIR:
                self.kinds[name] = _DIR
                return name
            if existing in _DIRS and kind is not _DIR:
                raise UnsafeArchiveError(raw_name, "a file or link would replace a folder")
            if kind is _DIR and existing not in _DIRS:
                raise UnsafeArchiveError(raw_name, f"a folder would replace a {existing}")
            raise UnsafeArchiveError(raw_name, "duplicate member name")
        parent = name.rpartition("/")[0]
        if parent and self.kinds.get(parent) not in _DIRS:
            self._ensure_parents(raw_name, parent)
        self.kinds[name] = kind
        if self._folds:
            self._remember(name, raw_name)
        if kind is _DIR:
            self.folder_added(raw_name, name)
        elif kind in _LISTED:
            self.files.append(name)
            if kind is _FILE:
                self.regular_files.add(name)
        return name

    def _ensure_parents(self, raw_name: str, parent: str) -> None:
        missing: list[str] = []
        while parent and self.kinds.get(parent) not in _DIRS:
            kind = self.kinds.get(parent)
            if kind is not None:
                raise UnsafeArchiveError(raw_name, f"its folder {parent!r} is a {kind}")
            missing.append(parent)
            parent = posix_dirname(parent)
        for folder in reversed(missing):
            self.kinds[folder] = _IMPLICIT_DIR
            if self._folds:
                self._remember(folder, raw_name)
            self.folder_added(raw_name, folder)

    # --- links ---
    def check_symlinks(self) -> None:
        """Resolve every symlink through the others (no disk needed); ``UnsafeArchiveError``
        for one that leads outside the tree."""
        links = {self.path(name): target for name, target, _ in self.symlinks}
        self.check_symlinks_resolve(LinkResolver(links.get), _DETACHED_ROOT)

    def check_symlinks_resolve(self, resolver: LinkResolver, root: str) -> None:
        """Every symlink, resolved by ``resolver`` from ``self.path(name)``, must lie inside
        ``root`` (already resolved); a path through more links than the system follows is
        refused too."""
        for refusal in self._symlinks_refused(resolver, root):
            raise refusal

    def symlinks_leading_out(self) -> list[UnsafeArchiveError]:
        """What ``check_symlinks`` refuses, every symlink of it rather than the first: what
        creation must not archive, since extraction would refuse the archive for it."""
        links = {self.path(name): target for name, target, _ in self.symlinks}
        return list(self._symlinks_refused(LinkResolver(links.get), _DETACHED_ROOT))

    def _symlinks_refused(self, resolver: LinkResolver, root: str) -> Iterator[UnsafeArchiveError]:
        for name, target, _ in self.symlinks:
            try:
                resolved = resolve_link(resolver, self.path(name), name)
            except UnsafeArchiveError as exc:
                yield exc
                continue
            if not is_within(resolved, root):
                yield UnsafeArchiveError(
                    name, f"symlink target {quoted(target)} resolves outside the destination"
                )
