"""Errors raised by fixtures_gen: all subclass RuntimeError, like archive_parallel's."""

from __future__ import annotations

from pathlib import Path


class FixturesError(RuntimeError):
    """A profile, tree or manifest problem reported to the user."""


class InsufficientSpaceError(FixturesError):
    """The target filesystem lacks room for the tree; raised before anything is written."""

    def __init__(self, path: str, needed: int, free: int) -> None:
        super().__init__(
            f"not enough free space at {path}: the tree needs about {needed / 1e6:,.1f} MB, "
            f"{free / 1e6:,.1f} MB are free"
        )
        self.path = path
        self.needed = needed
        self.free = free


class UnlistedEntriesError(FixturesError):
    """A tree fixtures-gen made holds entries its manifest does not list (someone else's): it
    is not replaced, so they are not deleted with it."""

    def __init__(self, tree: Path, paths: list[str], shown: int = 3) -> None:
        listed = ", ".join(paths[:shown]) + (
            f" and {len(paths) - shown} more" if len(paths) > shown else ""
        )
        super().__init__(
            f"{tree} holds {len(paths)} entr{'y' if len(paths) == 1 else 'ies'} its manifest "
            f"does not list ({listed}); move {'it' if len(paths) == 1 else 'them'} out of "
            "the tree first"
        )
        self.tree = tree
        self.paths = paths
