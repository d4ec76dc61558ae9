"""Every inflate is bounded by the declared size, whatever the method and the path.

Zip members of every method (stored, deflate, bzip2, lzma) that hold far more than they
declare, read by extraction, verification and symlink reading; an LZMA member or an xz
archive whose headers ask for a dictionary of gigabytes. Memory bombs run in a child process
under an address-space cap (``capped_child``), so a regression is a failed test, not an
exhausted machine.
"""

from __future__ import annotations

import io
import lzma
import struct
import zipfile
import zlib

import pytest
from capped_child import run_capped
from hostile_builders import MiB, lzma_zip_header, one_member_zip, zeros_stream

from archive_parallel import ArchiveManager
from archive_parallel.errors import CorruptArchiveError
from archive_parallel.formats import CompressionFormat
from archive_parallel.verify import verify_archive

BOMB = 256 * MiB
HEADROOM = 160 * MiB
METHODS = {
    "deflate": zipfile.ZIP_DEFLATED,
    "bzip2": zipfile.ZIP_BZIP2,
    "lzma": zipfile.ZIP_LZMA,
}
SEQUENTIAL = {"enable_parallel_processing": False}
PARALLEL = {"parallel_threshold": 1, "thread_pool_size": 2}


def _zeros_crc(total: int) -> int:
    crc, zero = 0, bytes(MiB)
    for _ in range(total // MiB):
        crc = zlib.crc32(zero, crc)
    return crc


@pytest.fixture(scope="module")
def bombs(tmp_path_factory):
    """method -> (file member bomb, symlink member bomb); each declares 10 bytes."""
    root = tmp_path_factory.mktemp("zip-bombs")
    made = {}
    for label, method in METHODS.items():
        data = zeros_stream(method, BOMB)
        assert len(data) < 400 * 1024  # a few hundred KB at most hold 256 MiB
        flags = 2 if method == zipfile.ZIP_LZMA else 0
        made[label] = (
            one_member_zip(root / f"{label}.zip", "zeros.bin", method, data, 10, 0, flags),
            one_member_zip(
                root / f"{label}-link.zip", "link", method, data, 10, 0, flags, mode=0o120777
            ),
        )
    return made


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("path", ["sequential", "parallel"])
def test_member_holding_far_more_than_declared_is_refused_in_bounded_memory(
    bombs, tmp_path, method, path
):
    archive, _ = bombs[method]
    config = SEQUENTIAL if path == "sequential" else PARALLEL
    outcome = run_capped("extract", archive, tmp_path / "out", config, HEADROOM)
    assert outcome["outcome"] == "CorruptArchiveError", outcome
    assert "zeros.bin" in outcome["message"]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("method", METHODS)
def test_verify_of_a_lying_member_is_false_in_bounded_memory(bombs, method):
    archive, _ = bombs[method]
    for config in (SEQUENTIAL, PARALLEL):
        outcome = run_capped("verify", archive, None, config, HEADROOM)
        assert outcome == {"outcome": "ok", "result": False}


@pytest.mark.parametrize("method", METHODS)
def test_symlink_member_holding_a_bomb_is_refused_in_bounded_memory(bombs, tmp_path, method):
    _, archive = bombs[method]
    outcome = run_capped("extract", archive, tmp_path / "out", PARALLEL, HEADROOM)
    assert outcome["outcome"] == "CorruptArchiveError", outcome
    assert "link" in outcome["message"]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("declared", [0, 1, 10, MiB - 1, MiB + 1])
def test_any_declared_size_below_the_content_stops_at_that_size(tmp_path, method, declared):
    """Several instances: whatever the declared size, the read stops right past it."""
    code = METHODS[method]
    data = zeros_stream(code, 4 * MiB)
    flags = 2 if code == zipfile.ZIP_LZMA else 0
    archive = one_member_zip(tmp_path / "a.zip", "z.bin", code, data, declared, 0, flags)
    with pytest.raises(CorruptArchiveError) as caught:
        ArchiveManager().extract_archive(archive, tmp_path / "out")
    assert caught.value.member == "z.bin"
    assert verify_archive(archive, CompressionFormat.ZIP) is False


@pytest.mark.parametrize("method", METHODS)
def test_member_holding_less_than_declared_is_damaged(tmp_path, method):
    code = METHODS[method]
    data = zeros_stream(code, 2 * MiB)
    flags = 2 if code == zipfile.ZIP_LZMA else 0
    crc = _zeros_crc(2 * MiB)
    archive = one_member_zip(tmp_path / "a.zip", "z.bin", code, data, 3 * MiB, crc, flags)
    with pytest.raises(CorruptArchiveError, match="not the declared"):
        ArchiveManager().extract_archive(archive, tmp_path / "out")


@pytest.mark.parametrize("method", METHODS)
def test_honest_members_of_every_method_round_trip(tmp_path, method):
    """zipfile's own bzip2/lzma/deflate members, multi-piece and empty, still read back."""
    archive = tmp_path / "honest.zip"
    contents = {
        "empty.txt": b"",
        "small.txt": b"hello\n" * 10,
        "big.bin": bytes(range(256)) * (12 * 1024) + b"tail",
    }
    with zipfile.ZipFile(archive, "w", METHODS[method]) as handle:
        for name, data in contents.items():
            handle.writestr(name, data)
    manager = ArchiveManager()
    manager.extract_archive(archive, tmp_path / "out")
    for name, data in contents.items():
        assert (tmp_path / "out" / name).read_bytes() == data
    assert manager.verify_archive_integrity(archive) is True


def test_lzma_member_with_a_forged_huge_dictionary_reads_in_bounded_memory(tmp_path):
    """The decoder allocates its dictionary up front: 4 GiB declared must not be allocated."""
    content = b"small content " * 1000
    compressor = lzma.LZMACompressor(
        lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA1, "preset": 6}]
    )
    body = compressor.compress(content) + compressor.flush()
    data = lzma_zip_header(dict_size=0xFFFFFFFF) + body
    archive = one_member_zip(
        tmp_path / "dict.zip", "a.txt", zipfile.ZIP_LZMA, data, len(content), zlib.crc32(content), 2
    )
    outcome = run_capped("extract", archive, tmp_path / "out", SEQUENTIAL, 64 * MiB)
    assert outcome == {"outcome": "ok", "result": 1}
    assert (tmp_path / "out" / "a.txt").read_bytes() == content
    assert run_capped("verify", archive, None, SEQUENTIAL, 64 * MiB)["result"] is True


def _patched_xz(payload: bytes, dict_byte: int) -> bytes:
    """An xz file whose only block header claims an LZMA2 dictionary of code ``dict_byte``
    (40: 4 GiB), with the header's CRC-32 recomputed."""
    data = bytearray(lzma.compress(payload, format=lzma.FORMAT_XZ, preset=0))
    start = 12
    size = (data[start] + 1) * 4
    block = data[start : start + size]
    flags = block[1]
    pos = 2
    assert flags & 0x03 == 0 and not flags & 0xC0  # one filter, no size fields
    assert block[pos] == 0x21 and block[pos + 1] == 1  # LZMA2, one property byte
    block[pos + 2] = dict_byte
    struct.pack_into("<I", block, size - 4, zlib.crc32(bytes(block[: size - 4])))
    data[start : start + size] = block
    return bytes(data)


@pytest.mark.parametrize("config", [SEQUENTIAL, PARALLEL], ids=["sequential", "parallel"])
@pytest.mark.parametrize("op", ["extract", "verify", "list"])
def test_xz_asking_for_a_4_gib_dictionary_is_refused_not_allocated(tmp_path, config, op):
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        info = tarfile.TarInfo("a.txt")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"hello"))
    archive = tmp_path / "dict.tar.xz"
    archive.write_bytes(_patched_xz(buffer.getvalue(), 40))
    outcome = run_capped(op, archive, tmp_path / "out", config, 128 * MiB)
    if op == "verify":
        assert outcome == {"outcome": "ok", "result": False}
    else:
        assert outcome["outcome"] == "CorruptArchiveError", outcome
        assert "limit" in outcome["message"].lower()
