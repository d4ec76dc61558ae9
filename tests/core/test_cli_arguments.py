"""Arguments every command checks alike, before any work: ``--threads`` and ``--batch-size``
below 1 are usage errors for ``list`` as for every other command."""

from __future__ import annotations

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
    return {"src": src, "archive": archive, "tmp": tmp_path}


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
