"""Which source names can be archived: exactly those that extraction reads back unchanged.

A name that extraction would refuse or change must not be archived silently: a zip reader
cannot decode a name that is not UTF-8, the side file cannot hold it, and extraction refuses
control characters, a drive prefix (``C:x``), over-long names, names nested too deep and
top-level names spelled like its own work folders (``.ap-staging-...``), and reads a
backslash as a folder separator. So before anything is written every entry is checked with
the very rules extraction applies (``safety``), plus strict UTF-8, and so is every symlink's
target (it must be relative and stay inside the archive, as extraction demands). ``"error"``
refuses the creation with one ``UnarchivableNameError`` naming every such file; ``"skip"``
leaves each out with a warning (a folder with everything below it), its reason in the
walk's ``skipped`` starting with ``"unarchivable"`` (``is_unarchivable``).
"""

from __future__ import annotations

import logging
import os

from .display import quoted
from .entries import EntryKind, FileEntry
from .errors import UnarchivableNameError, UnsafeArchiveError
from .leftovers import STAGING_PREFIX
from .link_resolver import MAX_HOPS
from .member_tree import MemberTree
from .safety import (
    check_extracted_name,
    check_link_target,
    is_plain_name,
    normalise_member_name,
)

logger = logging.getLogger(__name__)

#: how the reason of every name left out by ``"skip"`` begins, in the walk's ``skipped``
UNARCHIVABLE = "unarchivable"
#: how a reason about a symlink's target begins (``is_link_problem``)
_LINK_PROBLEMS = ("its link target", "extraction would refuse this symlink")


def is_unarchivable(reason: str) -> bool:
    """Whether a skipped entry's ``reason`` says its name could not be archived."""
    return reason.startswith(UNARCHIVABLE)


def is_link_problem(reason: str) -> bool:
    """Whether ``reason`` (``unarchivable_reason``'s) is about a symlink's target, which
    following links (``follow_symlinks``) would archive instead."""
    return reason.removeprefix(UNARCHIVABLE + ": ").startswith(_LINK_PROBLEMS)


def _utf8_problem(text: str, what: str) -> str | None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return f"{what} is not valid UTF-8, so zip readers and the side file cannot hold it"
    return None


def _refused_by_extraction(name: str) -> str | None:
    """Why extraction, and only extraction, would refuse ``name`` (already in normal form):
    the rules of ``safety.check_extracted_name``, a name nested too deep or spelled like
    extraction's own work folders, which an archive's own name rules let through."""
    try:
        check_extracted_name(name, name, STAGING_PREFIX)
    except UnsafeArchiveError as exc:
        return f"extraction would refuse its name ({exc.reason})"
    return None


def unarchivable_reason(entry: FileEntry) -> str | None:
    """Why ``entry`` would not read back as it is, or None when it would."""
    name = entry.name
    if (
        entry.kind is not EntryKind.SYMLINK
        and is_plain_name(name)  # too short to nest too deep
        and not name.startswith(STAGING_PREFIX)
    ):
        return None  # extraction reads it back unchanged for certain
    problem = _utf8_problem(name, "its name")
    if problem:
        return problem
    try:
        normalised = normalise_member_name(name)
    except UnsafeArchiveError as exc:
        return f"extraction would refuse its name ({exc.reason})"
    if normalised != name:
        return (
            f"extraction would read its name as {quoted(normalised)} "
            "(a backslash separates folders in archives)"
        )
    problem = _refused_by_extraction(name)
    if problem:
        return problem
    if entry.kind is EntryKind.SYMLINK:
        problem = _utf8_problem(entry.linkname, "its link target")
        if problem:
            return problem
        try:
            check_link_target(name, entry.linkname, EntryKind.SYMLINK)
        except UnsafeArchiveError as exc:
            return f"extraction would refuse this symlink ({exc.reason})"
    return None


def _links_leading_out(entries: list[FileEntry]) -> list[tuple[FileEntry, str]]:
    """The symlinks of ``entries`` that each stay inside the tree but lead out of it through
    the others (``sub/up -> ..`` then ``out -> sub/up/..``), as extraction resolves them
    (``MemberTree.symlinks_leading_out``), or through more links than the system follows,
    with why. Only a ``..`` in some target can climb, and only more than ``MAX_HOPS`` links
    can make too long a chain, so a tree with neither is not resolved at all."""
    links = [e for e in entries if e.kind is EntryKind.SYMLINK]
    if len(links) <= MAX_HOPS and not any(
        ".." in link.linkname.replace("\\", "/").split("/") for link in links
    ):
        return []
    tree = MemberTree()
    by_name = {tree.add_symlink(link.name, link.linkname): link for link in links}
    return [
        (by_name[refusal.member], f"extraction would refuse this symlink ({refusal.reason})")
        for refusal in tree.symlinks_leading_out()
    ]


def screen_names(
    entries: list[FileEntry],
    policy: str,
    skipped: list[tuple[str, str]] | None = None,
    source: str | os.PathLike[str] | None = None,
) -> list[FileEntry]:
    """``entries`` whose names read back unchanged. The others, with ``policy="error"``,
    raise one ``UnarchivableNameError`` naming all of them (member names under ``source``),
    once every entry has been checked; with ``"skip"`` each is left out with a warning (a
    folder with all it holds) and appended to ``skipped`` with why."""
    kept: list[FileEntry] = []
    refused: list[FileEntry] = []
    reasons: list[str] = []
    refused_dirs: list[str] = []
    for entry in entries:
        if refused_dirs and any(entry.name.startswith(d + "/") for d in refused_dirs):
            continue
        reason = unarchivable_reason(entry)
        if reason is None:
            kept.append(entry)
            continue
        refused.append(entry)
        reasons.append(reason)
        if entry.kind is EntryKind.DIR:
            refused_dirs.append(entry.name)
        if policy == "skip":
            logger.warning("skipping %s: %s", quoted(entry.path), reason)
            if skipped is not None:
                skipped.append((entry.name, f"{UNARCHIVABLE}: {reason}"))
    for entry, reason in _links_leading_out(kept):
        kept.remove(entry)
        refused.append(entry)
        reasons.append(reason)
        if policy == "skip":
            logger.warning("skipping %s: %s", quoted(entry.path), reason)
            if skipped is not None:
                skipped.append((entry.name, f"{UNARCHIVABLE}: {reason}"))
    if refused and policy != "skip":
        raise UnarchivableNameError(
            os.fsdecode(refused[0].path),
            reasons[0],
            source=source,
            entries=[(e.name, why) for e, why in zip(refused, reasons)],
        )
    return kept


__all__ = [
    "UNARCHIVABLE",
    "is_link_problem",
    "is_unarchivable",
    "screen_names",
    "unarchivable_reason",
]
