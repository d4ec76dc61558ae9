"""The command line run inside a program (``archive_parallel.commands.run``) leaves the
program's logging as it found it: the package's loggers keep their handlers, level and
propagation, so the program's own handlers still hear the library afterwards."""

from __future__ import annotations

import logging

import pytest

from archive_parallel import ArchiveConfig, ArchiveManager, commands

NAMES = ("archive_parallel", "archive_parallel.checksums")


def _state() -> list[tuple[list[logging.Handler], int, bool]]:
    return [
        (
            logging.getLogger(n).handlers[:],
            logging.getLogger(n).level,
            logging.getLogger(n).propagate,
        )
        for n in NAMES
    ]


@pytest.mark.parametrize("argv_tail", [[], ["-v"], ["--json"]])
def test_a_command_run_in_process_puts_the_loggers_back(tmp_path, capsys, caplog, argv_tail):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.txt").write_text("a\n")
    archive = tmp_path / "a.tar.gz"
    ArchiveManager().create_archive(tmp_path / "src", archive, ArchiveConfig(durable_writes=False))
    caplog.set_level(logging.DEBUG, logger="archive_parallel")
    before = _state()
    assert commands.run(["list", str(archive), *argv_tail]) == 0
    assert commands.run(["checksum", str(tmp_path / "missing"), *argv_tail]) != 0
    assert _state() == before
    caplog.clear()
    logging.getLogger("archive_parallel.checksums").debug("still heard")
    assert [r.getMessage() for r in caplog.records] == ["still heard"]
    capsys.readouterr()
