"""bench.file_scaling: its loops do what they say, every file is dealt once, and a small
measurement reports each loop and way, then leaves nothing behind."""

from __future__ import annotations

import json
import math
import os
import stat
import zlib

import pytest

from bench import file_scaling


def test_the_loops_write_and_read_each_file_as_extraction_and_creation_do(tmp_path):
    paths = file_scaling.file_paths(tmp_path, 40)
    file_scaling.make_folders(tmp_path, 40)
    data = file_scaling.payload(1000)
    assert len(data) == 1000
    assert file_scaling.write_files(paths, data) == 40_000
    for path in paths:
        info = os.stat(path)
        assert stat.S_IMODE(info.st_mode) == 0o644 and info.st_mtime == 1_700_000_000
        with open(path, "rb") as handle:
            assert handle.read() == data
    assert len({os.path.dirname(p) for p in paths}) == 40 // file_scaling.FILES_PER_FOLDER + 1
    assert file_scaling.read_files(paths, 1000) == 40_000
    with pytest.raises(FileExistsError):  # created, never overwritten
        file_scaling.write_files(paths[:1], data)


def test_every_file_is_dealt_once_in_batches():
    paths = [str(number) for number in range(300)]
    first, second = file_scaling.shares(paths, 2)
    assert sorted(first + second, key=int) == paths
    batch = file_scaling.BATCH_FILES
    assert first[:batch] == paths[:batch] and second[:batch] == paths[batch : 2 * batch]


def test_a_small_measurement_reports_each_loop_and_cleans_up(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ARCHIVE_BENCH_SCRATCH", str(tmp_path))
    argv = ["--files", "40", "--size", "300", "--workers", "2", "--rounds", "2"]
    assert file_scaling.main([*argv, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["loop"] for row in rows] == ["write", "read", "inflate"]
    assert {row["scratch_place"]["place"] for row in rows} == {str(tmp_path)}
    for row in rows:
        assert min(row["one_thread_s"], row["threads_s"], row["processes_s"]) > 0
        for way in ("threads", "processes"):
            assert row[way]["ratio"] > 0  # 2 rounds: too few for an interval
            assert math.isnan(row[way]["low"]) and math.isnan(row[way]["high"])
    assert list(tmp_path.iterdir()) == []
    card = tmp_path / "card"
    card.mkdir()
    assert file_scaling.main([*argv, "--loops", "read,inflate", "--dir", str(card)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"measured in {card} (")
    assert lines[1].startswith("40 files of 300 bytes, 2 workers, 2 rounds")
    assert lines[2].startswith("read") and "processes" in lines[2]
    assert lines[3].startswith("inflate") and len(lines) == 5
    assert lines[4].startswith("other work took ") and lines[4].endswith("over 4 rounds")
    assert sorted(tmp_path.iterdir()) == [card] and list(card.iterdir()) == []


def test_the_inflate_loop_inflates_a_real_member_per_path():
    data = file_scaling.member_payload(5000)
    assert len(data) == 5000 and data == file_scaling.member_payload(5000)
    member = file_scaling.raw_deflate(data)
    assert len(data) / 8 < len(member) < len(data) / 2  # compresses like code, not like a loop
    assert zlib.decompress(member, -15) == data
    assert file_scaling.inflate_members(["a", "b", "c"], member) == 15_000


def test_an_unknown_loop_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as caught:
        file_scaling.main(["--loops", "write,compress"])
    assert caught.value.code == 2
    assert "loops are write, read, inflate" in capsys.readouterr().err
