"""Support of the codec tests: simulating absent optional packages, damaged copies.

``block(monkeypatch, *names)`` makes ``import name`` raise ImportError for the rest of a test
(the library imports its accelerators lazily, at each use, so this takes effect at once).
``run_without(names, code)`` runs ``code`` in a child interpreter whose meta-path refuses the
named packages from the start, for checks that must not see them even once;
``env_without(folder, names)`` is the environment in which ``run_cli``'s child refuses them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

OPTIONAL = ("isal", "zlib_ng", "rapidgzip", "backports.zstd", "compression.zstd")


def block(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    for name in names:
        for loaded in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            monkeypatch.setitem(sys.modules, loaded, None)
        monkeypatch.setitem(sys.modules, name, None)


_BLOCKER = """
import importlib.abc, sys
class _Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if any(name == b or name.startswith(b + ".") for b in {blocked!r}):
            raise ImportError(f"{{name}} is blocked for this test")
        return None
sys.meta_path.insert(0, _Blocker())
"""


def run_without(names: tuple[str, ...], code: str, cwd: str | None = None) -> str:
    """Run ``code`` in a child Python that cannot import ``names``; its stdout."""
    script = _BLOCKER.format(blocked=tuple(names)) + textwrap.dedent(code)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=cwd, timeout=240
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def env_without(folder: Path, names: tuple[str, ...]) -> dict[str, str]:
    """``run_cli``'s ``env`` for a child that cannot import ``names``: a ``sitecustomize`` in
    ``folder`` (created) installs the blocker at start-up."""
    from tests.cli_runner import ROOT

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(_BLOCKER.format(blocked=tuple(names)))
    return {"PYTHONPATH": os.pathsep.join([str(ROOT), str(folder)])}


def verified(config, archive) -> bool:
    """``verify_archive_integrity`` under ``config`` (its default config), pool shut down."""
    from archive_parallel import ArchiveManager

    with ArchiveManager(config) as manager:
        return manager.verify_archive_integrity(archive)


def write_variants(tmp_path, suffix: str, variants: dict[str, bytes]) -> dict:
    """Each variant's bytes written to ``<name>.<suffix>`` in ``tmp_path``: name -> path."""
    out = {}
    for name, content in variants.items():
        path = tmp_path / f"{name}.{suffix}"
        path.write_bytes(content)
        out[name] = path
    return out


def assert_refused(manager, paths: dict, config, tmp_path) -> None:
    """Every archive in ``paths`` raises CorruptArchiveError on extraction (leaving nothing)
    and fails verification."""
    from archive_parallel import CorruptArchiveError

    for name, path in paths.items():
        dest = tmp_path / f"out-{name}"
        with pytest.raises(CorruptArchiveError):
            manager.extract_archive(path, dest, config)
        assert not dest.exists(), name
        assert not verified(config, path), name
