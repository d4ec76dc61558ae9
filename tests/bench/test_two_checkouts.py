"""``python -m bench.two_checkouts``: two revisions of the library timed side by side, each in
its own checkout and fresh processes, and nothing of either left behind."""

from __future__ import annotations

import subprocess

import pytest

from bench import two_checkouts

REPO = two_checkouts.REPO


def _worktrees() -> str:
    return subprocess.run(
        ["git", "-C", str(REPO), "worktree", "list"], capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture
def in_a_git_checkout():
    if subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True
    ).returncode:
        pytest.skip("not a git checkout")


def test_a_tiny_run_times_both_sides_and_removes_its_checkouts(in_a_git_checkout, capsys, tmp_path):
    before = _worktrees()
    argv = ["HEAD", "--cases", "create:zip:small,verify:tar.gz:small", "--rounds", "2"]
    argv += ["--warm-memory", "16"]  # each call warmed first, in the side's process
    assert (
        two_checkouts.main([*argv, "--calls", "1", "--scale", "0.5", "--dir", str(tmp_path)]) == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"measured in {tmp_path} (")
    assert lines[1].startswith("create:zip:small: old ") and "new speed " in lines[1]
    assert lines[2].startswith("verify:tar.gz:small: old ")
    assert lines[3].startswith("other work took ")
    assert list(tmp_path.iterdir()) == []  # trees, checkouts and outputs are gone
    assert _worktrees() == before


def test_an_unknown_revision_is_one_line(in_a_git_checkout, capsys, tmp_path):
    argv = ["no-such-revision", "--cases", "verify:zip:small", "--rounds", "1", "--dir"]
    assert two_checkouts.main([*argv, str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("two_checkouts: cannot check out 'no-such-revision'")
    assert "\n" not in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("case", ["create:zip", "compress:zip:small", "create::small"])
def test_a_malformed_case_is_a_usage_error(case, capsys):
    with pytest.raises(SystemExit) as stop:
        two_checkouts.main(["HEAD", "--cases", case])
    assert stop.value.code == 2
    assert "a case is OPERATION:FORMAT:PROFILE" in capsys.readouterr().err
