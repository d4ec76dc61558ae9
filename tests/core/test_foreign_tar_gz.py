"""tar.gz archives made by other tools (no side file): parallel inflate through rapidgzip when
installed, the serial inflate otherwise, the same damage checks either way."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import pytest

from archive_parallel import ArchiveConfig, ArchiveError, ArchiveManager, CodecUnavailableError
from archive_parallel.codecs import parallel_gzip, readers
from archive_parallel.read.open_archive import OpenArchive

sys.path.insert(0, os.path.dirname(__file__))
from codec_support import assert_refused, block, verified, write_variants  # noqa: E402

HAVE_RAPIDGZIP = parallel_gzip.import_rapidgzip() is not None
needs_rapidgzip = pytest.mark.skipif(not HAVE_RAPIDGZIP, reason="rapidgzip not installed")
BACKENDS = ["auto", "zlib"] + (["rapidgzip"] if HAVE_RAPIDGZIP else [])


@pytest.fixture
def foreign(sample_tree, tmp_path) -> Path:
    """The sample tree as GNU tar writes it (gzip through tar's -z)."""
    archive = tmp_path / "theirs.tar.gz"
    subprocess.run(["tar", "-czf", str(archive), "-C", str(sample_tree), "."], check=True)
    return archive


@pytest.fixture
def rapidgzip_calls(monkeypatch) -> list[str]:
    calls: list[str] = []
    original = readers.rapidgzip_chunks

    def spy(path, *args):
        calls.append(path)
        return original(path, *args)

    monkeypatch.setattr(readers, "rapidgzip_chunks", spy)
    return calls


def _config(backend: str, **kw) -> ArchiveConfig:
    return ArchiveConfig(
        thread_pool_size=2,
        parallel_threshold=1,
        parallel_min_archive_bytes=0,
        decompression_backend=backend,
        **kw,
    )


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("parallel", [True, False])
def test_extract_and_verify(
    manager, foreign, tmp_path, snapshot, sample_tree, backend, parallel, rapidgzip_calls
):
    config = _config(backend, enable_parallel_processing=parallel)
    manager.extract_archive(foreign, tmp_path / "out", config)
    assert snapshot(tmp_path / "out") == snapshot(sample_tree)
    assert verified(config, foreign)
    assert bool(rapidgzip_calls) == (backend == "rapidgzip" and parallel)


@needs_rapidgzip
def test_tarfile_and_multi_member_and_padding_are_read(manager, sample_tree, tmp_path, snapshot):
    import tarfile

    archive = tmp_path / "py.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(sample_tree, arcname=".")
    # zero padding after the last member: rapidgzip refuses it, the serial reader takes over
    padded = tmp_path / "padded.tar.gz"
    padded.write_bytes(archive.read_bytes() + bytes(4096))
    for path in (archive, padded):
        dest = tmp_path / f"out-{path.name}"
        manager.extract_archive(path, dest, _config("rapidgzip"))
        assert snapshot(dest) == snapshot(sample_tree)


def _damaged(foreign: Path, tmp_path: Path) -> dict[str, Path]:
    data = foreign.read_bytes()
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x21
    trailer = bytearray(data)
    trailer[-6] ^= 0x01  # the CRC-32 in the gzip trailer
    variants = {
        "flipped": bytes(flipped),
        "trailer-crc": bytes(trailer),
        "truncated": data[: len(data) - 100],
        "garbage-after": data + b"this is not gzip",
        "not-gzip": b"plain text, not gzip" * 50,
    }
    return write_variants(tmp_path, "tar.gz", variants)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("parallel", [True, False])
def test_damage_is_corrupt_archive_error(manager, foreign, tmp_path, backend, parallel):
    config = _config(backend, enable_parallel_processing=parallel)
    assert_refused(manager, _damaged(foreign, tmp_path), config, tmp_path)


def test_absent_rapidgzip(monkeypatch, manager, foreign, tmp_path, snapshot, sample_tree):
    block(monkeypatch, "rapidgzip")
    with pytest.raises(ArchiveError, match="pip install rapidgzip") as refused:
        manager.extract_archive(foreign, tmp_path / "a", _config("rapidgzip"))
    assert not (tmp_path / "a").exists()
    verifier = ArchiveManager(_config("rapidgzip"))
    with verifier, pytest.raises(CodecUnavailableError) as verifying:  # not damage
        verifier.verify_archive_integrity(foreign)
    assert str(verifying.value) == str(refused.value)
    manager.extract_archive(foreign, tmp_path / "b", _config("auto"))
    assert snapshot(tmp_path / "b") == snapshot(sample_tree)


def test_when_auto_takes_rapidgzip(monkeypatch):
    big = parallel_gzip.MIN_COMPRESSED_SIZE
    assert not parallel_gzip.wants_rapidgzip("zlib", big, 8, False)
    assert not parallel_gzip.wants_rapidgzip("auto", big - 1, 8, False)
    assert not parallel_gzip.wants_rapidgzip("auto", big, 1, False)
    monkeypatch.setattr(parallel_gzip, "usable_cpu_count", lambda: 4)
    # a fast serial inflater is kept on a 4-core Pi (rapidgzip's memory, no measured gain)
    assert not parallel_gzip.wants_rapidgzip("auto", big, 4, True)
    assert parallel_gzip.wants_rapidgzip("auto", big, 2, False) is HAVE_RAPIDGZIP
    monkeypatch.setattr(parallel_gzip, "usable_cpu_count", lambda: 16)
    assert parallel_gzip.wants_rapidgzip("auto", big, 16, True) is HAVE_RAPIDGZIP
    block(monkeypatch, "rapidgzip")
    assert not parallel_gzip.wants_rapidgzip("auto", big, 16, False)


def test_gzip_t_reads_what_we_write(manager, sample_tree, tmp_path):
    archive = tmp_path / "ours.tar.gz"
    manager.create_archive(
        sample_tree, archive, ArchiveConfig(parallel_threshold=1, parallel_min_archive_bytes=0)
    )
    subprocess.run(["gzip", "-t", str(archive)], check=True)
    assert gzip.decompress(archive.read_bytes())[257:262] == b"ustar"


@needs_rapidgzip
def test_data_that_expands_too_much_for_rapidgzip_is_inflated_serially(
    monkeypatch, manager, tmp_path
):
    """rapidgzip holds each chunk's whole output: a foreign tar.gz of zeros (a disk image)
    would make it hold the image in memory, so its chunk is sized from the data's ratio and
    such data goes to the serial reader, with the same result."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "disk.img").write_bytes(bytes(64 * 1024 * 1024))
    (src / "firmware.bin").write_bytes(os.urandom(1024 * 1024))  # under the bomb ratio
    archive = tmp_path / "image.tar.gz"
    subprocess.run(["tar", "-czf", str(archive), "-C", str(src), "."], check=True)
    opened: list[int] = []
    real = parallel_gzip.import_rapidgzip().RapidgzipFile
    monkeypatch.setattr(
        parallel_gzip.import_rapidgzip(),
        "RapidgzipFile",
        lambda *a, **kw: (opened.append(kw["chunk_size"]), real(*a, **kw))[1],
    )
    config = _config("rapidgzip")
    with ArchiveManager(config) as checking:
        assert checking.verify_archive_integrity(archive)
    manager.extract_archive(archive, tmp_path / "out", config)
    assert (tmp_path / "out" / "disk.img").read_bytes() == bytes(64 * 1024 * 1024)
    assert opened == []


def test_rapidgzip_chunks_shrink_as_the_data_compresses_better(tmp_path):
    rng = __import__("random").Random(7)
    words = [f"w{i}" for i in range(3000)]
    plain = " ".join(rng.choice(words) for _ in range(400_000)).encode()
    repetitive = b"the same log line, again and again\n" * 200_000
    sizes = {}
    for name, data in [("plain", plain), ("repetitive", repetitive), ("zeros", bytes(1 << 24))]:
        path = tmp_path / f"{name}.gz"
        path.write_bytes(gzip.compress(data, 6))
        with OpenArchive(path) as source:
            sizes[name] = parallel_gzip.rapidgzip_chunk_size(source)
    assert sizes["plain"] == parallel_gzip.DEFAULT_CHUNK
    assert sizes["zeros"] is None and sizes["repetitive"] is None
