"""The switch interval is lowered while an operation runs, then put back as it was found."""

from __future__ import annotations

import os
import sys
import tarfile
import threading

import pytest

import archive_parallel.manager as manager_module
from archive_parallel import ArchiveConfig
from archive_parallel.codecs import parallel_gzip, readers
from archive_parallel.gil_turns import SHORT_INTERVAL, short_switch_interval


@pytest.fixture(autouse=True)
def default_interval():
    found = sys.getswitchinterval()
    sys.setswitchinterval(0.005)
    yield
    sys.setswitchinterval(found)


def _short() -> bool:
    return sys.getswitchinterval() == pytest.approx(SHORT_INTERVAL, abs=1e-6)


def test_lowered_inside_and_put_back_after():
    with short_switch_interval():
        assert _short()
    assert sys.getswitchinterval() == pytest.approx(0.005)


def test_put_back_after_an_error():
    with pytest.raises(KeyError), short_switch_interval():
        raise KeyError("x")
    assert sys.getswitchinterval() == pytest.approx(0.005)


def test_scopes_of_several_threads_put_it_back_when_the_last_ends():
    first_open, first_may_end = threading.Event(), threading.Event()
    seen: list[bool] = []

    def first() -> None:
        with short_switch_interval():
            first_open.set()
            first_may_end.wait()
        seen.append(_short())  # the second scope is still open

    thread = threading.Thread(target=first)
    thread.start()
    first_open.wait()
    with short_switch_interval():
        first_may_end.set()
        thread.join()
        assert _short()
    assert seen == [True]
    assert sys.getswitchinterval() == pytest.approx(0.005)


def test_a_shorter_interval_of_the_process_is_left_alone():
    sys.setswitchinterval(SHORT_INTERVAL / 2)
    with short_switch_interval():
        assert sys.getswitchinterval() == pytest.approx(SHORT_INTERVAL / 2, abs=1e-6)
    assert sys.getswitchinterval() == pytest.approx(SHORT_INTERVAL / 2, abs=1e-6)


def test_a_change_made_meanwhile_is_kept():
    with short_switch_interval():
        sys.setswitchinterval(0.001)
    assert sys.getswitchinterval() == pytest.approx(0.001)


@pytest.mark.skipif(parallel_gzip.import_rapidgzip() is None, reason="rapidgzip not installed")
def test_short_while_rapidgzip_reads_a_foreign_tar_gz(manager, tmp_path, monkeypatch):
    source = tmp_path / "src"
    source.mkdir()
    for i in range(4):
        (source / f"f{i}.bin").write_bytes(os.urandom(1 << 20) + bytes([i]))  # incompressible
    archive = tmp_path / "theirs.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(source, "src")
    intervals: list[bool] = []
    original = parallel_gzip.rapidgzip_chunks

    def watching(*args):
        for piece in original(*args):
            intervals.append(_short())
            yield piece

    monkeypatch.setattr(readers, "rapidgzip_chunks", watching)
    config = ArchiveConfig(
        thread_pool_size=2,
        parallel_threshold=1,
        parallel_min_archive_bytes=0,
        decompression_backend="rapidgzip",
    )
    manager.extract_archive(archive, tmp_path / "out", config)
    assert intervals and all(intervals)
    assert sys.getswitchinterval() == pytest.approx(0.005)
    assert (tmp_path / "out" / "src" / "f3.bin").read_bytes()[-1] == 3


def test_every_operation_runs_with_short_turns(manager, tmp_path, monkeypatch):
    source = tmp_path / "tree"
    source.mkdir()
    for i in range(30):
        (source / f"f{i}.txt").write_text(f"file {i}\n" * 100)
    seen: list[bool] = []
    config = ArchiveConfig(progress_callback=lambda *args: seen.append(_short()))
    archive = tmp_path / "out.tar.gz"
    manager.create_archive(source, archive, config)
    manager.extract_archive(archive, tmp_path / "out", config)
    assert seen and all(seen)
    assert sys.getswitchinterval() == pytest.approx(0.005)
    scopes: list[str] = []

    def counted():
        scopes.append("opened")
        return short_switch_interval()

    monkeypatch.setattr(manager_module, "short_switch_interval", counted)
    for call in (
        lambda: manager.verify_archive_integrity(archive),
        lambda: manager.list_archive(archive),
        lambda: manager.calculate_checksums([archive]),
    ):
        before = len(scopes)
        call()
        assert len(scopes) > before
    assert sys.getswitchinterval() == pytest.approx(0.005)
