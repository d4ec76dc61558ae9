"""Shared fixtures for the fixtures_gen tests: small generated trees, made once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

import fixtures_gen as fg

SMALL_SCALE = 0.05


@pytest.fixture(scope="session")
def package_tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, fg.Manifest]:
    """The package profile at a small scale (about 190 files), generated once."""
    out = tmp_path_factory.mktemp("package") / "tree"
    return out, fg.make_tree("package", out, scale=SMALL_SCALE, seed=7)


@pytest.fixture
def small_tree(tmp_path: Path) -> tuple[Path, fg.Manifest]:
    """A fresh small tree that a test may damage."""
    out = tmp_path / "small"
    return out, fg.make_tree("small", out, scale=0.2, seed=3)
