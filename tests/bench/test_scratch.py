"""bench.scratch: where the side tools measure, and the line that names it."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bench.scratch import add_dir_argument, measuring_place, place_line, scratch_base


def test_dir_wins_over_the_environment_which_wins_over_the_temporary_folder(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.delenv("ARCHIVE_BENCH_SCRATCH", raising=False)
    assert scratch_base() == Path(tempfile.gettempdir())
    monkeypatch.setenv("ARCHIVE_BENCH_SCRATCH", str(tmp_path / "env"))
    assert scratch_base() == tmp_path / "env"
    assert scratch_base(tmp_path / "dir") == tmp_path / "dir"


def test_the_line_names_the_file_system_and_a_ram_disk():
    card = {"place": "/mnt/card", "filesystem": "ext4"}
    assert place_line(card) == "measured in /mnt/card (ext4)"
    assert place_line({"place": "/tmp", "filesystem": "tmpfs"}) == (
        "measured in /tmp (tmpfs, a RAM disk: no storage device is measured)"
    )
    assert place_line({"place": "x", "filesystem": None}) == "measured in x (file system unknown)"


def test_a_place_that_is_not_a_folder_is_a_usage_error(tmp_path, monkeypatch, capsys):
    parser = argparse.ArgumentParser(prog="tool")
    add_dir_argument(parser)
    args = parser.parse_args(["--dir", str(tmp_path)])
    assert measuring_place(parser, args.dir) == tmp_path
    assert capsys.readouterr().out.startswith(f"measured in {tmp_path} (")
    with pytest.raises(SystemExit) as caught:
        measuring_place(parser, tmp_path / "missing")
    assert caught.value.code == 2
    monkeypatch.setenv("ARCHIVE_BENCH_SCRATCH", str(tmp_path / "gone"))
    with pytest.raises(SystemExit):
        measuring_place(parser, None, announce=False)
    err = capsys.readouterr().err
    assert f"--dir {tmp_path / 'missing'}: not an existing folder" in err
    assert f"ARCHIVE_BENCH_SCRATCH {tmp_path / 'gone'}: not an existing folder" in err
