"""What ``archive-parallel create`` says about source entries it left out or refused.

The summary line ends with a count of what was left out, by kind (``left_out``). A creation
refused for unreadable entries or for names that would not read back the same (or for both,
in one error) names every one at once: the one-line message gives each kind's count and its
first few, with the options that get past them (``refusal_hint``), and ``--json`` lists them
all, with their kind, in the error object (``refused_entries``).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from .errors import UnarchivableNameError, UnreadableSourceError
from .source_names import is_link_problem, is_unarchivable
from .walker import OVER_SIZE_LIMIT, is_unreadable

#: the kinds the summary line counts, in its order
_KINDS = ("unreadable", "unarchivable", "over the size limit", "other")


def _kind(reason: str) -> str:
    if is_unreadable(reason):
        return "unreadable"
    if is_unarchivable(reason):
        return "unarchivable"
    return "over the size limit" if reason == OVER_SIZE_LIMIT else "other"


def left_out(skipped: list[tuple[str, str]]) -> str:
    """The summary line's note of what create left out (each was warned about), by kind:
    ``"; left out 1 unreadable, 2 over the size limit"``; empty when nothing was."""
    kinds = Counter(_kind(reason) for _, reason in skipped)
    return "; left out " + ", ".join(f"{kinds[k]} {k}" for k in _KINDS if kinds[k]) if kinds else ""


def refusal_hint(error: BaseException) -> str:
    """The options that would let a refused creation through, to end its error line."""
    if not isinstance(error, (UnreadableSourceError, UnarchivableNameError)):
        return ""
    links = any(is_link_problem(reason) for _, reason in error.unarchivable)
    follow = "; --follow-symlinks archives what the links point at" if links else ""
    skips = [
        option
        for option, refused in (
            ("--skip-unreadable", error.unreadable),
            ("--skip-unarchivable", error.unarchivable),
        )
        if refused
    ]
    verb = "leave" if len(skips) > 1 else "leaves"
    return f"{follow}; {' and '.join(skips)} {verb} them out"


def refused_entries(error: BaseException) -> dict[str, Any] | None:
    """``{"entries": [{name, reason, kind}...]}``: every source entry a refused creation
    named, ``kind`` ``"unreadable"`` or ``"unarchivable"`` (the unreadable first), for the
    JSON error object; None for any other error."""
    if not isinstance(error, (UnreadableSourceError, UnarchivableNameError)):
        return None
    return {
        "entries": [
            {"name": name, "reason": why, "kind": kind}
            for kind, refused in (
                ("unreadable", error.unreadable),
                ("unarchivable", error.unarchivable),
            )
            for name, why in refused
        ]
    }


__all__ = ["left_out", "refusal_hint", "refused_entries"]
