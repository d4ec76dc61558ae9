"""fixtures-gen make under Ctrl-C and SIGTERM: one line, 130/143, no partial or orphaned tree;
killed outright, it leaves a build the next make recognises as its own and replaces."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import fixtures_gen as fg
from fixtures_gen.cli import main

REPO_ROOT = Path(__file__).resolve().parents[2]
MAKE = ["make", "small", "--scale", "0.05", "--no-progress"]


def _make_and_wait_until_writing(out: Path) -> subprocess.Popen[str]:
    """``fixtures-gen make`` of about 10,000 tiny files into ``out``, in a child process, once
    it has written into ``<out>.partial``."""
    partial = out.with_name(out.name + ".partial")
    proc = subprocess.Popen(
        [sys.executable, "-m", "fixtures_gen", "make", "many-tiny", "--scale", "0.5"]
        + ["--out", str(out), "--no-progress", "--no-reuse"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not (partial.is_dir() and any(partial.iterdir())):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            _, err_text = proc.communicate()
            pytest.fail(f"generation never started (exit {proc.returncode}): {err_text}")
        time.sleep(0.01)
    return proc


def test_sigterm_during_make_is_one_line_exit_143_and_leaves_nothing(tmp_path: Path) -> None:
    proc = _make_and_wait_until_writing(tmp_path / "t")
    try:
        proc.send_signal(signal.SIGTERM)
        out_text, err_text = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 143, err_text
    assert err_text.strip().splitlines() == ["fixtures-gen: interrupted"]
    assert out_text == ""
    assert list(tmp_path.iterdir()) == []


def test_a_make_killed_outright_leaves_a_build_the_next_make_knows_as_its_own(
    tmp_path: Path,
) -> None:
    proc = _make_and_wait_until_writing(tmp_path / "t")
    proc.kill()  # SIGKILL: no clean-up runs
    proc.communicate(timeout=120)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.manifest.json.pending", "t.partial"]

    out = tmp_path / "t"
    assert main([*MAKE, "--out", str(out)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t", "t.manifest.json"]
    assert fg.verify_tree(out).ok


def test_a_signal_between_the_two_publishing_renames_waits_for_the_second(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real_rename = Path.rename

    def rename_then_signal(self: Path, target):
        moved = real_rename(self, target)
        if self.name.endswith(".partial"):
            signal.raise_signal(signal.SIGTERM)  # right after the tree's rename
        return moved

    monkeypatch.setattr(Path, "rename", rename_then_signal)
    out = tmp_path / "t"
    assert main([*MAKE, "--out", str(out)]) == 143
    assert capsys.readouterr().err.strip().splitlines() == ["fixtures-gen: interrupted"]
    # the manifest was published before the interrupt was raised: a whole, valid tree
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t", "t.manifest.json"]
    assert fg.verify_tree(out).ok


def test_an_interrupt_that_cannot_wait_keeps_the_tree_marked_as_ours(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_replace = os.replace

    def interrupted_replace(src, dst, *args, **kwargs):
        if str(src).endswith(".manifest.json.pending"):
            raise KeyboardInterrupt  # a second Ctrl-C, or a crash, between the two renames
        return real_replace(src, dst, *args, **kwargs)

    out = tmp_path / "t"
    monkeypatch.setattr(os, "replace", interrupted_replace)
    assert main([*MAKE, "--out", str(out)]) == 130
    monkeypatch.setattr(os, "replace", real_replace)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t", "t.manifest.json.pending"]

    assert main([*MAKE, "--out", str(out)]) == 0  # the next make recognises the tree as ours
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t", "t.manifest.json"]
    assert fg.verify_tree(out).ok
