"""Arguments every command checks alike, before any work: an empty path (``"$DEST"`` with
``DEST`` unset) is a usage error naming the argument, never the current folder; ``--threads``
and ``--batch-size`` below 1 are usage errors for ``list`` as for every other command. And a
side file path that is a folder is named as such when ``create`` cannot write it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_runner import run_cli


@pytest.fixture
def work(tmp_path: Path) -> dict[str, Path]:
    src = tmp_path / "src"
    src.mkdir()
    (src / "notes.txt").write_text("from the archive\n")
    archive = tmp_path / "a.tar.gz"
    assert run_cli("create", src, archive).returncode == 0
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    (cwd / "notes.txt").write_text("mine\n")
    return {"src": src, "archive": archive, "cwd": cwd, "tmp": tmp_path}


EMPTY_PATHS = {
    "create SRC": (["create", "", "{tmp}/b.tar.gz"], "source"),
    "create OUT": (["create", "{src}", ""], "output"),
    "extract ARCHIVE": (["extract", "", "{tmp}/d"], "archive"),
    "extract DEST": (["extract", "{archive}", ""], "dest"),
    "verify ARCHIVE": (["verify", ""], "archive"),
    "list ARCHIVE": (["list", ""], "archive"),
    "checksum PATH": (["checksum", "{archive}", ""], "PATH"),
}


@pytest.mark.parametrize("case", list(EMPTY_PATHS))
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_an_empty_path_is_refused(work, case, as_json):
    args, argument = EMPTY_PATHS[case]
    args = [a.format(**work) for a in args] + (["--json"] if as_json else [])
    before = sorted(p.name for p in work["tmp"].iterdir())
    r = run_cli(*args, cwd=work["cwd"])
    message = f"argument {argument}: the path is empty"
    assert (r.returncode, r.stderr) == (2, f"archive-parallel: error: {message}\n")
    if as_json:
        assert json.loads(r.stdout) == {
            "error": {"kind": "usage", "message": message},
            "exit_code": 2,
        }
    else:
        assert r.stdout == ""
    assert (work["cwd"] / "notes.txt").read_text() == "mine\n"
    assert sorted(p.name for p in work["cwd"].iterdir()) == ["notes.txt"]
    assert sorted(p.name for p in work["tmp"].iterdir()) == before


def test_the_current_folder_as_output_names_it(work):
    r = run_cli("create", work["src"], ".", cwd=work["cwd"])
    assert r.returncode == 2
    assert "cannot tell the archive format from the name '.'" in r.stderr


@pytest.mark.parametrize("command", ["list", "verify", "extract", "create", "checksum"])
@pytest.mark.parametrize(
    "option", [["--threads", "0"], ["--threads", "-5"], ["--batch-size", "0"]], ids=" ".join
)
def test_every_command_refuses_a_count_below_one(work, command, option):
    operands = {
        "list": [work["archive"]],
        "verify": [work["archive"]],
        "extract": [work["archive"], work["tmp"] / "d"],
        "create": [work["src"], work["tmp"] / "b.tar.gz"],
        "checksum": [work["archive"]],
    }[command]
    r = run_cli(command, *operands, *option)
    assert (r.returncode, r.stdout) == (2, "")
    expected = f"archive-parallel: error: argument {option[0]}: {option[1]!r} is not a whole"
    assert r.stderr.startswith(expected) and r.stderr.count("\n") == 1
    assert not (work["tmp"] / "d").exists() and not (work["tmp"] / "b.tar.gz").exists()


def test_a_side_file_path_that_is_a_folder_is_named(work):
    out = work["tmp"] / "out"
    (out / "a.tar.gz.meta").mkdir(parents=True)
    (out / "a.tar.gz").write_text("OLD\n")
    r = run_cli("create", work["src"], out / "a.tar.gz")
    assert r.returncode == 1
    side_file = out / "a.tar.gz.meta"
    assert r.stderr == f"archive-parallel: error: cannot write {side_file}: Is a directory\n"
    assert (out / "a.tar.gz").read_text() == "OLD\n"
    assert sorted(p.name for p in out.iterdir()) == ["a.tar.gz", "a.tar.gz.meta"]
    assert list(side_file.iterdir()) == []
