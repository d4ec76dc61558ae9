"""Creation's pipeline: small members read, hashed and compressed by workers in batches,
large ones streamed, the archive hashed on the way.

Whatever the thread count and the batch sizes, the archive's bytes are the same, system
tools read them back byte for byte, and the side file's SHA-256 and MD5 are those of the
file on disk (also when a streamed zip member's header was patched after its data, which
ends the hashing on the way). A file that changes size while a worker reads it stops the
creation with ``SourceChangedError`` and leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest

import archive_parallel.source_reader as source_reader
from archive_parallel import ArchiveConfig, ArchiveManager
from archive_parallel.codecs import zip_writer
from archive_parallel.errors import SourceChangedError
from archive_parallel.hashing_writer import HashingWriter
from archive_parallel.metadata import load_metadata

STREAM_LIMIT = 100_000  # files above this are streamed (lowered from 2 MiB to keep tests fast)


def _tree(root: Path) -> dict[str, bytes]:
    """Hundreds of tiny files, some medium ones, two streamed ones (one in the middle of the
    order), an empty file and folder, a non-ASCII name and a symlink."""
    rng = random.Random(15)
    words = [b"alpha ", b"beta ", b"gamma ", b"config = 1\n", b"value\n"]
    files: dict[str, bytes] = {}
    for i in range(240):
        size = rng.randint(0, 3000)
        files[f"pkg/m{i % 7}/f{i:03d}.py"] = b"".join(rng.choice(words) for _ in range(size // 6))
    for i in range(12):
        files[f"data/blob{i:02d}.bin"] = rng.randbytes(rng.randint(20_000, 90_000))
    files["data/m-streamed.txt"] = b"".join(rng.choice(words) for _ in range(60_000))
    files["zz/last-streamed.bin"] = rng.randbytes(150_000)
    files["empty.txt"] = b""
    files["ünïcødé.txt"] = "naïve\n".encode() * 50
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (root / "empty-dir").mkdir()
    os.symlink("empty.txt", root / "link-to-empty")
    return files


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> tuple[Path, dict[str, bytes]]:
    root = tmp_path_factory.mktemp("src")
    return root, _tree(root)


def _config(threads: int | None) -> ArchiveConfig:
    return ArchiveConfig(
        thread_pool_size=threads or 1,
        enable_parallel_processing=threads is not None,
        parallel_threshold=1,
        parallel_min_archive_bytes=0,
        durable_writes=False,
    )


def _create(source: Path, archive: Path, threads: int | None) -> bytes:
    with ArchiveManager() as manager:
        manager.create_archive(source, archive, _config(threads))
    data = archive.read_bytes()
    meta = load_metadata(archive)
    assert meta is not None
    assert meta.checksum_sha256 == hashlib.sha256(data).hexdigest()
    assert meta.checksum_md5 == hashlib.md5(data).hexdigest()
    return data


def _read_back(archive: Path, fmt: str, dest: Path, files: dict[str, bytes]) -> None:
    dest.mkdir()
    if fmt == "zip":
        subprocess.run(["unzip", "-tq", str(archive)], check=True, capture_output=True)
        subprocess.run(["unzip", "-q", str(archive), "-d", str(dest)], check=True)
    else:
        subprocess.run(["gzip", "-t", str(archive)], check=True)
        subprocess.run(["tar", "-xzf", str(archive), "-C", str(dest)], check=True)
    for name, data in files.items():
        assert (dest / name).read_bytes() == data, name
    assert (dest / "empty-dir").is_dir()
    assert os.readlink(dest / "link-to-empty") == "empty.txt"


@pytest.mark.parametrize("fmt", ["zip", "tar.gz"])
def test_same_bytes_for_any_threads_and_batches(source, tmp_path, monkeypatch, fmt):
    if not (shutil.which("unzip") and shutil.which("tar") and shutil.which("gzip")):
        pytest.skip("unzip, tar and gzip are needed")
    monkeypatch.setattr(source_reader, "SMALL_FILE_LIMIT", STREAM_LIMIT)
    root, files = source
    reference = _create(root, tmp_path / f"seq.{fmt}", None)
    _read_back(tmp_path / f"seq.{fmt}", fmt, tmp_path / "back", files)
    for threads in (1, 2, 4):
        assert _create(root, tmp_path / f"t{threads}.{fmt}", threads) == reference, threads
    for members, nbytes in ((1, 256 * 1024), (7, 64 * 1024), (1000, 1 << 30)):
        monkeypatch.setattr(zip_writer, "BATCH_MEMBERS", members)
        monkeypatch.setattr(zip_writer, "BATCH_BYTES", nbytes)
        got = _create(root, tmp_path / f"b{members}.{fmt}", 2)
        assert got == reference, (members, nbytes)


def test_zip_level_0_stores_every_member(source, tmp_path, monkeypatch):
    monkeypatch.setattr(source_reader, "SMALL_FILE_LIMIT", STREAM_LIMIT)
    root, files = source
    archive = tmp_path / "stored.zip"
    config = _config(2)
    config.compression_level = 0
    with ArchiveManager() as manager:
        manager.create_archive(root, archive, config)
    import zipfile

    with zipfile.ZipFile(archive) as zf:
        assert {i.compress_type for i in zf.infolist()} == {zipfile.ZIP_STORED}
        for name, data in files.items():
            assert zf.read(name) == data


@pytest.mark.parametrize("threads", [None, 2, 4])
@pytest.mark.parametrize("change", ["grow", "shrink", "vanish"])
def test_zip_member_changing_while_a_worker_reads_it(source, tmp_path, threads, change):
    """The changed file sits in the middle of a batch of tiny files, read by a worker."""
    root = tmp_path / "src"
    shutil.copytree(source[0], root, symlinks=True)
    victim = root / "pkg" / "m1" / "f120.py"  # 120 % 7
    out = tmp_path / "out"

    def on_progress(current: int, total: int) -> None:
        if current == 0 and victim.exists():  # after the walk, before any file is read
            if change == "grow":
                victim.write_bytes(victim.read_bytes() + b"more\n")
            elif change == "shrink":
                victim.write_bytes(victim.read_bytes()[:-1])
            else:
                victim.unlink()

    config = _config(threads)
    config.progress_callback = on_progress
    with ArchiveManager() as manager, pytest.raises(SourceChangedError, match="f120.py"):
        manager.create_archive(root, out / "pkg.zip", config)
    assert not out.exists() or list(out.iterdir()) == []


@pytest.mark.parametrize("states", [4, 256])
def test_hashing_writer_rewound_by_patches(monkeypatch, tmp_path, states):
    """A seek back into what was written (a patched header) and back to the end: the
    digests cover the file as it finally is, whatever was written before and after."""
    import archive_parallel.hashing_writer as hashing_writer

    monkeypatch.setattr(hashing_writer, "MAX_HASH_STATES", states)
    path = tmp_path / "out.bin"
    rng = random.Random(3)
    with open(path, "wb") as raw:
        writer = HashingWriter(raw, reread=path)
        for round_no in range(3):
            pieces = [rng.randbytes(rng.randint(1, 5000)) for _ in range(20)]
            for piece in pieces[:12]:
                writer.write(piece)
            patch_at = writer.tell() - len(pieces[11]) - len(pieces[10]) + round_no
            for piece in pieces[12:]:
                writer.write(piece)
            end = writer.tell()
            writer.seek(patch_at)
            writer.write(b"PATCH")
            assert writer.seek(end) == end
        writer.write(b"tail")
        digests = writer.digests()
    data = path.read_bytes()
    assert digests == (hashlib.sha256(data).hexdigest(), hashlib.md5(data).hexdigest())


def test_hashing_writer_in_order_needs_no_read_back():
    buffer = io.BytesIO()
    writer = HashingWriter(buffer)
    writer.write(b"abc")
    writer.write(b"def")
    with pytest.raises(io.UnsupportedOperation):
        writer.seek(0)
    assert writer.digests() == (
        hashlib.sha256(b"abcdef").hexdigest(),
        hashlib.md5(b"abcdef").hexdigest(),
    )


@pytest.mark.parametrize("fmt", ["zip", "tar.gz"])
def test_archive_written_inside_its_source_leaves_itself_out(tmp_path, fmt):
    import tarfile
    import zipfile

    root = tmp_path / "src"
    (root / "..not-a-parent").mkdir(parents=True)
    (root / "..not-a-parent" / "kept.txt").write_text("kept\n")
    (root / "a.txt").write_text("a\n")
    archive = root / f"self.{fmt}"
    with ArchiveManager() as manager:
        for _ in range(2):  # the second run finds the first archive and its side file
            manager.create_archive(root, archive, _config(2))
    if fmt == "zip":
        with zipfile.ZipFile(archive) as zf:
            names = set(zf.namelist())
    else:
        with tarfile.open(archive) as tf:
            names = set(tf.getnames())
    assert names == {"..not-a-parent/", "..not-a-parent/kept.txt", "a.txt"} or names == {
        "..not-a-parent",
        "..not-a-parent/kept.txt",
        "a.txt",
    }
