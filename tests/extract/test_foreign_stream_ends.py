"""Archives from GNU tar, gzip and xz with bytes after the compressed data: every
configuration (sequential, parallel, each decompression backend, rapidgzip forced, the
defaults) gives one verdict, verify agrees with extract, and a refusal reads the same.

After a tar.gz's last member, zero padding and more members are accepted and anything else
("\\n", a few letters) is damage; a zlib stream named .tar.gz is not gzip. After a tar.xz's
streams, xz stream padding (null bytes, a multiple of four) is accepted, as by ``xz -t`` and
GNU tar, between streams too; other padding and garbage are damage. After a tar.bz2's
streams, null bytes that end the file (padding to a block size) are accepted, as by bzip2 and
GNU tar; null bytes with a stream after them, and garbage, are damage. Verify reads an archive
on the same path as extraction (``parallel_min_archive_bytes`` included), so with the default
settings a small foreign archive is read by the same decoders in both.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import zlib
from pathlib import Path

import pytest

from archive_parallel import ArchiveConfig, ArchiveError, ArchiveManager, CorruptArchiveError
from archive_parallel.codecs import parallel_gzip
from archive_parallel.codecs.inflate import inflate_module

HAVE_RAPIDGZIP = parallel_gzip.import_rapidgzip() is not None
PARALLEL = dict(parallel_threshold=1, parallel_min_archive_bytes=0, thread_pool_size=2)
CONFIGS = {
    "default": {},
    "sequential": dict(enable_parallel_processing=False),
    "parallel": PARALLEL,
    "parallel-zlib": dict(PARALLEL, decompression_backend="zlib"),
    "parallel-one-thread": dict(PARALLEL, thread_pool_size=1),
}
if HAVE_RAPIDGZIP:
    CONFIGS["rapidgzip"] = dict(decompression_backend="rapidgzip")  # small: the caller reads
    CONFIGS["rapidgzip-parallel"] = dict(PARALLEL, decompression_backend="rapidgzip")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed")
    return path


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("stream-ends") / "src"
    (root / "docs").mkdir(parents=True)
    (root / "blob.bin").write_bytes(os.urandom(200_000))
    for i in range(12):
        (root / "docs" / f"note{i}.txt").write_text(f"note {i}\n" * (200 + 50 * i))
    return root


@pytest.fixture(scope="module")
def tar_bytes(tree, tmp_path_factory) -> bytes:
    out = tmp_path_factory.mktemp("tar") / "t.tar"
    subprocess.run([_tool("tar"), "-cf", str(out), "-C", str(tree), "."], check=True)
    return out.read_bytes()


@pytest.fixture(scope="module")
def targz(tree, tmp_path_factory) -> bytes:
    out = tmp_path_factory.mktemp("targz") / "t.tar.gz"
    subprocess.run([_tool("tar"), "-czf", str(out), "-C", str(tree), "."], check=True)
    return out.read_bytes()


def _packed_parts(tool: str, tar_bytes: bytes) -> tuple[bytes, bytes, bytes]:
    """The tar compressed by ``tool -c`` as one stream, and as two (its halves, as
    ``cat a b`` joins them)."""
    path = _tool(tool)

    def packed(data: bytes) -> bytes:
        return subprocess.run([path, "-c"], input=data, capture_output=True, check=True).stdout

    half = len(tar_bytes) // 2
    return packed(tar_bytes), packed(tar_bytes[:half]), packed(tar_bytes[half:])


@pytest.fixture(scope="module")
def xz_parts(tar_bytes) -> tuple[bytes, bytes, bytes]:
    return _packed_parts("xz", tar_bytes)


@pytest.fixture(scope="module")
def bz2_parts(tar_bytes) -> tuple[bytes, bytes, bytes]:
    return _packed_parts("bzip2", tar_bytes)


def verdicts(path: Path, tmp_path: Path) -> dict[str, tuple[bool, str | None]]:
    """Per configuration: whether verify and extract accept ``path`` (asserted equal), and
    extract's message when it refuses."""
    results = {}
    for name, settings in CONFIGS.items():
        config = ArchiveConfig(durable_writes=False, **settings)
        dest = tmp_path / f"out-{path.name}-{name}"
        with ArchiveManager(config) as manager:
            report = manager.verify_archive_details(path, check_safety=True)
            try:
                manager.extract_archive(path, dest, config)
            except CorruptArchiveError as exc:
                assert not dest.exists(), name
                results[name] = (False, str(exc))
            else:
                results[name] = (True, None)
        assert report.ok == results[name][0], (name, report.reason)
        if not report.ok:
            assert results[name][1] in report.reason, name
    return results


def assert_one_verdict(path: Path, tmp_path: Path, accepted: bool, tree: Path) -> str | None:
    results = verdicts(path, tmp_path)
    assert {verdict for verdict, _ in results.values()} == {accepted}, results
    messages = {message for _, message in results.values()}
    assert len(messages) == 1, results  # the same words on every path
    if accepted:
        for name in CONFIGS:
            out = tmp_path / f"out-{path.name}-{name}"
            assert (out / "blob.bin").read_bytes() == (tree / "blob.bin").read_bytes()
            assert len(list((out / "docs").iterdir())) == 12
    return messages.pop()


GZIP_TAILS = {
    "nothing": (b"", True),
    "zero-padding": (bytes(512), True),
    "newline": (b"\n", False),
    "two-letters": (b"ab", False),
    "eight-letters": (b"JUNKJUNK", False),
}


@pytest.mark.parametrize("tail", list(GZIP_TAILS))
def test_gnu_tar_gz_with_bytes_after_it(targz, tree, tmp_path, tail):
    extra, accepted = GZIP_TAILS[tail]
    archive = tmp_path / f"{tail}.tar.gz"
    archive.write_bytes(targz + extra)
    message = assert_one_verdict(archive, tmp_path, accepted, tree)
    if not accepted:
        assert message.endswith(
            f"{archive.name} (tar.gz) has garbage after its data (bad gzip magic)"
        )


def test_a_zlib_stream_named_tar_gz_is_refused_on_every_path(tar_bytes, tree, tmp_path):
    archive = tmp_path / "zlib.tar.gz"
    archive.write_bytes(zlib.compress(tar_bytes))  # what pigz -z writes
    message = assert_one_verdict(archive, tmp_path, False, tree)
    assert message.endswith("zlib.tar.gz (tar.gz) is not gzip data (bad gzip magic)")


def _xz_variants(one: bytes, a: bytes, b: bytes) -> dict[str, tuple[bytes, bool]]:
    zeros = bytes
    return {
        "one-stream-padded": (one + zeros(4), True),
        "two-streams": (a + b, True),
        "two-streams-padded": (a + b + zeros(4), True),
        "two-streams-padded-512": (a + b + zeros(512), True),
        "two-streams-padded-10240": (a + b + zeros(10_240), True),
        "padding-between": (a + zeros(8) + b, True),
        "padding-of-three": (a + b + zeros(3), False),
        "padding-between-of-six": (a + zeros(6) + b, False),
        "garbage-after": (a + b + b"junk", False),
        "one-stream-garbage-after": (one + b"\n", False),
    }


@pytest.mark.parametrize("variant", list(_xz_variants(b"", b"", b"")), ids=lambda name: name)
def test_tar_xz_with_stream_padding(xz_parts, tree, tmp_path, variant):
    content, accepted = _xz_variants(*xz_parts)[variant]
    archive = tmp_path / f"{variant}.tar.xz"
    archive.write_bytes(content)
    xz_ok = subprocess.run([_tool("xz"), "-t", str(archive)], capture_output=True).returncode == 0
    assert xz_ok == accepted  # xz itself is the judge
    tar_out = tmp_path / f"gnu-{variant}"
    tar_out.mkdir()
    tar_ok = subprocess.run(
        [_tool("tar"), "-xJf", str(archive), "-C", str(tar_out)], capture_output=True
    )
    if accepted:
        assert tar_ok.returncode == 0
    assert_one_verdict(archive, tmp_path, accepted, tree)


def _bz2_variants(one: bytes, a: bytes, b: bytes) -> dict[str, tuple[bytes, bool]]:
    zeros = bytes
    return {
        "one-stream-padded": (one + zeros(512), True),
        "one-stream-padded-10240": (one + zeros(10_240), True),
        "two-streams": (a + b, True),
        "two-streams-padded": (a + b + zeros(3), True),
        "padding-between": (a + zeros(8) + b, False),  # bzip2 would drop the second stream
        "garbage-after": (a + b + b"junk", False),
        "garbage-after-padding": (one + zeros(512) + b"\n", False),
    }


@pytest.mark.parametrize("variant", list(_bz2_variants(b"", b"", b"")), ids=lambda name: name)
def test_tar_bz2_with_bytes_after_it(bz2_parts, tree, tmp_path, variant):
    content, accepted = _bz2_variants(*bz2_parts)[variant]
    archive = tmp_path / f"{variant}.tar.bz2"
    archive.write_bytes(content)
    tar_out = tmp_path / f"gnu-{variant}"
    tar_out.mkdir()
    tar_run = subprocess.run(
        [_tool("tar"), "-xjf", str(archive), "-C", str(tar_out)], capture_output=True
    )
    if accepted:
        assert tar_run.returncode == 0, tar_run.stderr  # GNU tar reads it too
    message = assert_one_verdict(archive, tmp_path, accepted, tree)
    if variant == "padding-between":
        assert "null bytes may only end the file" in message


def test_verify_reads_a_small_archive_on_the_same_path_as_extraction(xz_parts, tmp_path):
    _, a, b = xz_parts
    archive = tmp_path / "small.tar.xz"
    archive.write_bytes(a + b + bytes(4))
    assert archive.stat().st_size < ArchiveConfig().parallel_min_archive_bytes
    for settings, parallel in (({}, False), (PARALLEL, True)):
        config = ArchiveConfig(durable_writes=False, **settings)
        with ArchiveManager(config) as manager:
            assert manager.verify_archive_integrity(archive)
            after_verify = manager.get_stats()
            manager.extract_archive(archive, tmp_path / f"out-{parallel}", config)
            after_extract = manager.get_stats()
        assert after_verify["parallel_operations"] == int(parallel)
        assert after_verify["sequential_operations"] == int(not parallel)
        assert after_extract["parallel_operations"] == 2 * int(parallel)
        assert after_extract["sequential_operations"] == 2 * int(not parallel)


def test_a_reserved_gzip_header_flag_is_damage_whatever_inflates(targz, tree, tmp_path):
    """zlib and ``gzip -t`` refuse a member whose header sets a reserved flag; isal passes
    over it. The verdict must not depend on the backend installed."""
    archive = tmp_path / "flags.tar.gz"
    data = bytearray(targz)
    data[3] |= 0x20
    archive.write_bytes(bytes(data))
    assert subprocess.run([_tool("gzip"), "-t", str(archive)], capture_output=True).returncode
    for backend in ("zlib", "zlib-ng", "isal"):
        try:
            inflate_module(backend)
        except ArchiveError:
            continue  # not installed here
        config = ArchiveConfig(durable_writes=False, decompression_backend=backend)
        with ArchiveManager(config) as manager:
            report = manager.verify_archive_details(archive)
        assert not report.ok and "reserved gzip header flags" in report.reason, backend
    message = assert_one_verdict(archive, tmp_path, False, tree)
    assert message.endswith("flags.tar.gz (tar.gz) is damaged (reserved gzip header flags set)")
