"""The pool's serial lane: a stateful decoder's steps run one at a time, on a thread of their
own, ahead of the caller, and the lane stops with the pool; on a machine of fewer than three
cores the steps run in the caller instead."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import pytest

from archive_parallel import ArchiveConfig, ArchiveManager
from archive_parallel import pool as pool_module
from archive_parallel.codecs.readers import DECODE_AHEAD, CompressedPosition, _chunks_ahead
from archive_parallel.pool import MIN_CORES_FOR_LANE, SizedExecutor, serial_lane


@pytest.fixture
def cores_to_spare(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine with a core for the decoder beside the caller and a writer."""
    monkeypatch.setattr(pool_module, "usable_cpu_count", lambda: MIN_CORES_FOR_LANE + 1)


@pytest.fixture
def two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool_module, "usable_cpu_count", lambda: 2)


def _positions() -> tuple[CompressedPosition, CompressedPosition]:
    return CompressedPosition(), CompressedPosition()


class _Decoder:
    """Counts steps, records where they ran, and notices two running at once."""

    def __init__(self, steps: int) -> None:
        self.left = steps
        self.running = 0
        self.overlapped = False
        self.threads: set[str] = set()
        self.lock = threading.Lock()

    def step(self) -> bytes | None:
        with self.lock:
            self.running += 1
            self.overlapped |= self.running > 1
            self.threads.add(threading.current_thread().name)
        time.sleep(0.001)
        with self.lock:
            self.running -= 1
            if self.left == 0:
                return None
            self.left -= 1
            return b"x" * 10


@pytest.mark.usefixtures("cores_to_spare")
def test_steps_run_in_order_on_the_lane_never_two_at_once():
    decoder = _Decoder(50)
    with SizedExecutor(4, thread_name_prefix="t") as pool:
        chunks = list(_chunks_ahead(io.BytesIO(), decoder.step, pool, *_positions()))
    assert len(chunks) == 50
    assert not decoder.overlapped
    assert decoder.threads == {"t-lane_0"}


@pytest.mark.usefixtures("cores_to_spare")
def test_the_lane_works_ahead_of_the_caller():
    decoder = _Decoder(20)
    with SizedExecutor(2) as pool:
        chunks = _chunks_ahead(io.BytesIO(), decoder.step, pool, *_positions())
        next(chunks)
        time.sleep(0.1)  # the caller is busy with its first chunk
        ahead = 20 - 1 - decoder.left
        chunks.close()
    assert 1 <= ahead <= DECODE_AHEAD


@pytest.mark.usefixtures("cores_to_spare")
def test_without_a_lane_one_step_at_a_time_in_the_executor():
    from concurrent.futures import ThreadPoolExecutor

    decoder = _Decoder(30)
    with ThreadPoolExecutor(4) as pool:
        assert serial_lane(pool) is pool
        assert len(list(_chunks_ahead(io.BytesIO(), decoder.step, pool, *_positions()))) == 30
    assert not decoder.overlapped


@pytest.mark.usefixtures("two_cores")
def test_on_two_cores_the_steps_run_in_the_caller_one_at_a_time():
    decoder = _Decoder(30)
    with SizedExecutor(2, thread_name_prefix="t") as pool:
        assert serial_lane(pool) is None
        chunks = _chunks_ahead(io.BytesIO(), decoder.step, pool, *_positions())
        next(chunks)
        assert decoder.left == 29  # nothing decoded ahead of the caller
        assert len(list(chunks)) == 29
        assert pool.started == 0
    assert decoder.threads == {threading.current_thread().name}


def _other_tools_tar_gz(tmp_path: Path) -> Path:
    import subprocess

    src = tmp_path / "src"
    src.mkdir()
    for i in range(30):
        (src / f"f{i}.txt").write_bytes(b"line %d\n" % i * 2000)
    archive = tmp_path / "other.tar.gz"
    subprocess.run(["tar", "czf", str(archive), "-C", str(src), "."], check=True)
    return archive


_INFLATE_IN_ORDER = ArchiveConfig(
    thread_pool_size=2,
    parallel_threshold=1,
    parallel_min_archive_bytes=0,
    decompression_backend="zlib",
)


def _extracted_whole(out: Path) -> bool:
    return all((out / f"f{i}.txt").read_bytes() == b"line %d\n" % i * 2000 for i in range(30))


def _extract_watching_lanes(tmp_path: Path) -> tuple[ArchiveManager, set[threading.Thread]]:
    """Extract another tool's tar.gz (inflated in order); the manager, and the lane threads
    the extraction started."""
    archive = _other_tools_tar_gz(tmp_path)
    manager = ArchiveManager()
    before = set(threading.enumerate())
    manager.extract_archive(archive, tmp_path / "out", _INFLATE_IN_ORDER, verify_integrity=False)
    return manager, {t for t in set(threading.enumerate()) - before if t.name.endswith("-lane_0")}


@pytest.mark.usefixtures("two_cores")
def test_on_two_cores_a_tar_gz_of_another_tool_inflates_without_a_lane(tmp_path: Path):
    manager, lanes = _extract_watching_lanes(tmp_path)
    assert not lanes
    manager.cleanup_thread_pool()
    assert _extracted_whole(tmp_path / "out")


@pytest.mark.usefixtures("cores_to_spare")
def test_the_lane_stops_with_the_pool(tmp_path: Path):
    """A tar.gz of another tool inflates on the lane; cleanup_thread_pool stops it too."""
    manager, lanes = _extract_watching_lanes(tmp_path)
    assert lanes
    manager.cleanup_thread_pool()
    assert not any(t.is_alive() for t in lanes)
    assert _extracted_whole(tmp_path / "out")


def test_progress_follows_what_the_caller_has_read_not_the_decoder(tmp_path: Path):
    """The decoder runs steps ahead, in large steps: progress (compressed bytes) still moves
    within a step as the caller reads it, never backwards, and ends at the archive's size."""
    import random
    import subprocess

    src = tmp_path / "src"
    src.mkdir()
    rng = random.Random(3)
    words = [bytes(rng.choice(b"abcdefghij") for _ in range(6)) for _ in range(400)]
    for i in range(40):
        text = b" ".join(rng.choice(words) for _ in range(12_000))
        (src / f"f{i:02}.txt").write_bytes(text)
    archive = tmp_path / "other.tar.gz"
    subprocess.run(["tar", "czf", str(archive), "-C", str(src), "."], check=True)
    size = archive.stat().st_size
    seen: list[tuple[int, int]] = []
    config = ArchiveConfig(
        thread_pool_size=2,
        parallel_threshold=1,
        parallel_min_archive_bytes=0,
        progress_callback=lambda c, t: seen.append((c, t)),
    )
    ArchiveManager().extract_archive(archive, tmp_path / "out", config, verify_integrity=False)
    currents = [c for c, _ in seen]
    assert currents == sorted(currents)
    assert seen[-1] == (size, size)
    assert len({c for c in currents if 0 < c < size}) >= 5, seen
