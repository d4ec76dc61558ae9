import hashlib
import io
import os
import stat
import subprocess
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor

import pytest
from codecs_testdata import mixed_bytes, random_bytes, require_tool, text_bytes

from archive_parallel.codecs import zip_writer
from archive_parallel.codecs.zip_extra import read_unix_mtime
from archive_parallel.codecs.zip_writer import dos_date_time, write_zip
from archive_parallel.entries import EntryKind, FileEntry
from archive_parallel.source_reader import LoadedFile, iter_contents

MTIME = 1_700_000_001  # odd second: the DOS time cannot hold it, the 0x5455 field does


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """A source tree with small and large, compressible and random files, an empty file,
    a non-ASCII name, a folder and a symlink, described as FileEntry objects."""
    root = tmp_path_factory.mktemp("tree")
    files = {
        "small.txt": text_bytes(20_000),
        "empty": b"",
        "noise.bin": random_bytes(30_000),
        "sub/large.txt": text_bytes(900_000, seed=7),
        "sub/large-random.bin": random_bytes(400_000, seed=8),
        "sub/déjà vu.txt": "naïve café\n".encode() * 100,
    }
    entries = [FileEntry(str(root / "sub"), "sub", EntryKind.DIR, 0, 0o750, MTIME)]
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        mode = 0o600 if name == "small.txt" else 0o644
        entries.append(FileEntry(str(path), name, EntryKind.FILE, len(data), mode, MTIME + 2))
    os.symlink("small.txt", root / "link")
    link_path = str(root / "link")
    link = FileEntry(link_path, "link", EntryKind.SYMLINK, 0, 0o777, MTIME, linkname="small.txt")
    entries.append(link)
    return entries, files


def build(entries, executor=None, window=3, level=6, block_size=64 * 1024, **kw):
    out = io.BytesIO()
    items = iter_contents(entries, executor, batch_size=2, batches_in_flight=2)
    result = write_zip(out, items, level, executor, window, block_size, **kw)
    return out.getvalue(), result


def small_stream_limit(monkeypatch):
    """Make files above 100 kB stream through the block deflater (as real large files do)."""
    import archive_parallel.source_reader as source_reader

    monkeypatch.setattr(source_reader, "SMALL_FILE_LIMIT", 100_000)


@pytest.mark.parametrize("window", [1, 4])
def test_identical_bytes_for_any_thread_count(tree, executor, window, monkeypatch):
    small_stream_limit(monkeypatch)
    entries, _ = tree
    reference, _ = build(entries)
    got, result = build(entries, executor, window)
    assert got == reference
    assert 1 <= result.peak_in_flight <= window


def test_contents_modes_and_names(tree, tmp_path, monkeypatch):
    small_stream_limit(monkeypatch)
    entries, files = tree
    data, result = build(entries)
    assert result.members == ["sub/", *files, "link"]
    assert result.file_count == len(files)
    assert result.uncompressed_size == sum(len(v) for v in files.values())
    assert result.file_sha256 == {k: hashlib.sha256(v).hexdigest() for k, v in files.items()}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        infos = {info.filename: info for info in archive.infolist()}
        for name, content in files.items():
            assert archive.read(name) == content
            info = infos[name]
            assert info.create_system == 3
            assert stat.S_ISREG(info.external_attr >> 16)
            assert read_unix_mtime(info) == MTIME + 2
        assert stat.S_IMODE(infos["small.txt"].external_attr >> 16) == 0o600
        assert infos["small.txt"].compress_type == zipfile.ZIP_DEFLATED
        assert infos["sub/large.txt"].compress_type == zipfile.ZIP_DEFLATED
        assert infos["noise.bin"].compress_type == zipfile.ZIP_STORED
        assert infos["sub/large-random.bin"].compress_type == zipfile.ZIP_STORED
        assert infos["sub/déjà vu.txt"].flag_bits & 0x800
        folder = infos["sub/"]
        assert folder.is_dir() and stat.S_ISDIR(folder.external_attr >> 16)
        assert folder.external_attr & 0x10
        assert stat.S_IMODE(folder.external_attr >> 16) == 0o750
        link = infos["link"]
        assert stat.S_ISLNK(link.external_attr >> 16)
        assert archive.read("link") == b"small.txt"
        assert infos["empty"].file_size == 0


def test_system_unzip_and_zipinfo(tree, tmp_path, pools, monkeypatch):
    require_tool("unzip")
    small_stream_limit(monkeypatch)
    path = tmp_path / "a.zip"
    path.write_bytes(build(tree[0], pools[2])[0])
    subprocess.run(["unzip", "-tq", str(path)], check=True, capture_output=True)
    listing = subprocess.run(["unzip", "-Z", str(path)], check=True, capture_output=True, text=True)
    assert "lrwxrwxrwx" in listing.stdout and "unx" in listing.stdout
    target = tmp_path / "out"
    subprocess.run(["unzip", "-q", str(path), "-d", str(target)], check=True)
    assert (target / "sub" / "large.txt").read_bytes() == tree[1]["sub/large.txt"]
    # unzip restores the 1-second mtime from the extended timestamp field
    assert int((target / "small.txt").stat().st_mtime) == MTIME + 2


def test_level_zero_stores_everything(tree, monkeypatch):
    small_stream_limit(monkeypatch)
    data, _ = build(tree[0], level=0)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_STORED}
        assert archive.testzip() is None


def test_fixed_mtime_is_reproducible(tree):
    entries, _ = tree
    first, _ = build(entries, fixed_mtime=315_532_800 + 86_400)
    moved = [
        FileEntry(e.path, e.name, e.kind, e.size, e.mode, e.mtime + 1000, linkname=e.linkname)
        for e in entries
    ]
    second, _ = build(moved, fixed_mtime=315_532_800 + 86_400)
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {read_unix_mtime(i) for i in archive.infolist()} == {315_532_800 + 86_400}


def test_dos_time_is_clamped():
    assert dos_date_time(0)[1] == (0 << 9) | (1 << 5) | 1  # 1980-01-01
    assert dos_date_time(2**40)[1] >> 9 == 2107 - 1980


def loaded(name, data, mtime=MTIME):
    entry = FileEntry("/nonexistent/" + name, name, EntryKind.FILE, len(data), 0o644, mtime)
    return entry, LoadedFile(data, hashlib.sha256(data).hexdigest())


def test_zip64_by_entry_count(tmp_path):
    count = 65_536 + 2
    items = (loaded(f"f{i:05d}", b"%d" % (i % 10)) for i in range(count))
    path = tmp_path / "many.zip"
    with open(path, "w+b") as out:
        result = write_zip(out, items, 6, None, 8, 64 * 1024)
    assert result.file_count == count
    raw = path.read_bytes()
    assert b"PK\x06\x06" in raw[-200:] and b"PK\x06\x07" in raw[-200:]
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert len(names) == count
        assert archive.read(names[-1]) == b"%d" % ((count - 1) % 10)
    if require_tool("unzip"):
        subprocess.run(["unzip", "-tqq", str(path)], check=True, capture_output=True)


def test_zip64_sizes_and_offsets_with_a_lowered_threshold(tree, tmp_path, pools, monkeypatch):
    """4 GiB members are too slow to test; the same code path runs with a 50 kB limit."""
    small_stream_limit(monkeypatch)
    monkeypatch.setattr(zip_writer, "ZIP64_LIMIT", 50_000)
    entries, files = tree
    path = tmp_path / "z64.zip"
    items = iter_contents(entries, pools[2], 2, 2)
    with open(path, "w+b") as out:
        write_zip(out, items, 6, pools[2], 3, 64 * 1024)
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        for name, content in files.items():
            assert archive.read(name) == content
        infos = {i.filename: i for i in archive.infolist()}
        # streamed large member and a loaded member past the limit carry zip64 sizes
        assert infos["sub/large.txt"].extract_version == 45
    require_tool("unzip")
    subprocess.run(["unzip", "-tq", str(path)], check=True, capture_output=True)


def test_source_change_during_streaming_aborts(tmp_path, pools, monkeypatch):
    small_stream_limit(monkeypatch)
    path = tmp_path / "grows.txt"
    path.write_bytes(mixed_bytes(300_000))
    entry = FileEntry(str(path), "grows.txt", EntryKind.FILE, 200_000, 0o644, MTIME)
    from archive_parallel.errors import SourceChangedError

    with pytest.raises(SourceChangedError):
        write_zip(io.BytesIO(), iter_contents([entry], pools[2], 2, 2), 6, pools[2], 3, 65536)


def test_batching_of_small_members_does_not_change_bytes(tree, pools, monkeypatch):
    entries, _ = tree
    reference, _ = build(entries, pools[2])
    monkeypatch.setattr(zip_writer, "BATCH_MEMBERS", 1)
    assert build(entries, pools[2])[0] == reference


def _text_files(folder, count: int, size: int) -> list[FileEntry]:
    """``count`` text files of ``size`` bytes each in ``folder``, as entries."""
    entries = []
    for i in range(count):
        path = folder / f"f{i}.txt"
        path.write_bytes(text_bytes(size, seed=i))
        entries.append(FileEntry(str(path), path.name, EntryKind.FILE, size, 0o644, MTIME))
    return entries


class _CountingPool(ThreadPoolExecutor):
    """A pool that counts the batches handed to it."""

    def __init__(self) -> None:
        super().__init__(max_workers=2)
        self.batches = 0

    def submit(self, fn, /, *args, **kwargs):
        self.batches += fn is zip_writer._prepare_batch
        return super().submit(fn, *args, **kwargs)


@pytest.mark.parametrize(
    ("file_size", "shared"),
    [(1024, False), (8192, True)],
)
def test_deflated_batches_go_to_workers_from_a_few_kib_a_file(tmp_path, file_size, shared):
    """Files averaging under ``pool.INLINE_MEAN_DEFLATED_SIZE`` cost more interpreter work
    than deflate in a worker saves: the writing thread makes their batches ready itself;
    larger ones are shared. The bytes are the same either way."""
    entries = _text_files(tmp_path, 40, file_size)
    reference, _ = build(entries)
    with _CountingPool() as counting:
        got, _ = build(entries, counting)
    assert got == reference
    assert (counting.batches > 0) is shared


@pytest.mark.parametrize(("file_size", "gated"), [(8192, True), (65536, False)])
def test_batches_of_small_files_run_a_few_at_a_time(tmp_path, monkeypatch, file_size, gated):
    """Deflated batches of small files (under ``pool.INLINE_MEAN_FILE_SIZE`` a file) run at
    most ``SMALL_BATCHES_AT_ONCE`` at once, however many threads the pool has: each of their
    files takes the interpreter lock, so more of them only wait for it. Batches of larger
    files are never held back. The bytes are the same either way."""
    monkeypatch.setattr(zip_writer, "usable_cpu_count", lambda: 16)
    monkeypatch.setattr(zip_writer, "BATCH_MEMBERS", 2)
    running = peak = 0
    lock = threading.Lock()
    prepared = zip_writer._prepared

    def watched(*args):
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        try:
            time.sleep(0.02)  # long enough for every free worker to start one
            return prepared(*args)
        finally:
            with lock:
                running -= 1

    entries = _text_files(tmp_path, 64, file_size)
    reference, _ = build(entries)
    monkeypatch.setattr(zip_writer, "_prepared", watched)
    with ThreadPoolExecutor(max_workers=12) as wide:
        out = io.BytesIO()
        items = iter_contents(entries, wide, batch_size=2, batches_in_flight=2)
        write_zip(out, items, 6, wide, 16, 1 << 20)
    assert out.getvalue() == reference
    if gated:
        assert peak == zip_writer.SMALL_BATCHES_AT_ONCE
    else:
        assert peak > zip_writer.SMALL_BATCHES_AT_ONCE
