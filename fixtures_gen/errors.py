"""Errors raised by fixtures_gen: all subclass RuntimeError, like archive_parallel's."""

from __future__ import annotations


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
