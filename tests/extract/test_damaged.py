"""Issue 7, item 2: damaged input. verify_archive says False, extract raises
CorruptArchiveError (or UnsafeArchiveError when the damage makes a member hostile), never a
hang, never a low-level exception, and never a partial tree. A bounded hypothesis fuzz test
mutates valid archives of every format and asserts only those outcomes."""

from __future__ import annotations

import io
import os
import shutil
import struct
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest
from extract_helpers import (
    ALL_FORMATS,
    SUFFIX,
    Entry,
    fmt_id,
    run_extract,
    staging_leftovers,
    write_archive,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive_parallel.errors import ArchiveError, CorruptArchiveError, UnsafeArchiveError
from archive_parallel.formats import CompressionFormat
from archive_parallel.verify import list_members, verify_archive, verify_archive_report

ENTRIES = [
    Entry("d", "dir", mode=0o755),
    Entry("d/text.txt", data=b"line of text that compresses well\n" * 1200),
    Entry("rand.bin", data=os.urandom(6000)),
    Entry("empty.txt"),
    Entry("link", "symlink", linkname="d/text.txt"),
    Entry("tail.txt", data=b"the last member\n" * 40),
]


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> dict[CompressionFormat, bytes]:
    root = tmp_path_factory.mktemp("good")
    return {
        fmt: write_archive(root / f"g{SUFFIX[fmt]}", fmt, ENTRIES).read_bytes()
        for fmt in ALL_FORMATS
    }


def assert_names_the_archive(message: str, path: Path) -> None:
    """A damage message starts with the archive's name (its path, or its file name and
    format: ``bad.tar.gz (tar.gz) is truncated ...``), so that damage in one of several
    archives can be told from damage in another."""
    names = (str(path), path.name)
    assert message.startswith(tuple(f"{name}{end}" for name in names for end in " :")), message


def assert_damage_named(error: CorruptArchiveError, path: Path) -> None:
    assert error.archive_path == str(path)
    assert_names_the_archive(str(error), path)


def outcome(path: Path, fmt: CompressionFormat, dest: Path, executor=None) -> tuple[bool, bool]:
    """(verify result, whether extract succeeded); asserts only the allowed outcomes, and
    that each damage message names the archive."""
    report = verify_archive_report(path, fmt, executor)
    verified = report.ok
    assert isinstance(verified, bool)
    if not verified and not report.unsafe:
        assert_names_the_archive(report.reason, path)
    try:
        run_extract(path, dest, fmt, executor)
    except (CorruptArchiveError, UnsafeArchiveError) as exc:
        assert not dest.exists(), "a failed extraction left the destination behind"
        if isinstance(exc, CorruptArchiveError):
            assert_damage_named(exc, path)
        extracted = False
    else:
        assert staging_leftovers(dest) == []
        extracted = True
    try:
        list_members(path, fmt)
    except CorruptArchiveError as exc:
        assert_damage_named(exc, path)
    return verified, extracted


def assert_refused(
    data: bytes, fmt: CompressionFormat, tmp_path: Path, label: str, executor=None
) -> None:
    path = tmp_path / f"{label}{SUFFIX[fmt]}"
    path.write_bytes(data)
    dest = tmp_path / f"out-{label}"
    assert outcome(path, fmt, dest, executor) == (False, False), label


def _tar_data_end(data: bytes) -> int:
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        return max(m.offset_data + -(-m.size // 512) * 512 for m in archive.getmembers())


def _truncation_points(fmt: CompressionFormat, data: bytes) -> list[int]:
    if fmt is CompressionFormat.TAR:
        end = _tar_data_end(data)  # cuts past the end marker leave a valid (padded) tar
        return sorted({1, 100, 511, 512, 700, 1024, end // 2, end - 512, end - 1, end})
    size = len(data)
    return sorted(
        {
            1,
            2,
            5,
            10,
            20,
            50,
            size // 4,
            size // 2,
            3 * size // 4,
            size - 20,
            size - 9,
            size - 4,
            size - 1,
        }
    )


@pytest.mark.parametrize("fmt", ALL_FORMATS, ids=fmt_id)
def test_truncation_at_many_offsets(good, tmp_path, fmt, executor):
    data = good[fmt]
    for cut in _truncation_points(fmt, data):
        assert_refused(data[:cut], fmt, tmp_path, f"cut{cut}", executor)


def _flip_points(fmt: CompressionFormat, data: bytes) -> list[int]:
    size = len(data)
    if fmt is CompressionFormat.TAR_GZ:  # body and trailer; header's mtime/OS bytes are free
        return [10, 11, size // 3, size // 2, size - 8, size - 5, size - 2]
    if fmt is CompressionFormat.TAR_BZ2:
        return [0, 3, 4, 10, size // 3, size // 2, size - 6]
    if fmt is CompressionFormat.TAR_XZ:
        return [0, 7, 12, 20, size // 2, size - 12, size - 1]
    if fmt is CompressionFormat.TAR:  # headers only: plain tar has no data checksum
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            headers = [member.offset for member in archive.getmembers()]
        return [0, 1, 124, 148, 150, headers[1] + 1, headers[-1] + 125, headers[-1] + 2]
    central = data.rfind(b"PK\x01\x02")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        start = archive.getinfo("d/text.txt").header_offset
    first_data = start + 30 + sum(struct.unpack_from("<HH", data, start + 26))
    return [0, first_data, first_data + 5, central, central + 16, len(data) - 22]


@pytest.mark.parametrize("fmt", ALL_FORMATS, ids=fmt_id)
def test_flipped_bytes_in_headers_and_data(good, tmp_path, fmt, executor):
    data = good[fmt]
    for position in _flip_points(fmt, data):
        damaged = bytearray(data)
        damaged[position] ^= 0xFF
        assert_refused(bytes(damaged), fmt, tmp_path, f"flip{position}", executor)


def test_zip_bad_crc_names_the_member(tmp_path, executor):
    path = write_archive(
        tmp_path / "a.zip",
        CompressionFormat.ZIP,
        [Entry("ok.txt", data=b"fine"), Entry("bad.txt", data=b"x" * 5000)],
    )
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("bad.txt")
    central = data.rfind(b"PK\x01\x02")  # bad.txt's central entry is the last one
    struct.pack_into("<I", data, central + 16, info.CRC ^ 0xDEADBEEF)
    path.write_bytes(bytes(data))
    assert verify_archive(path, CompressionFormat.ZIP, executor) is False
    with pytest.raises(CorruptArchiveError) as caught:
        run_extract(path, tmp_path / "out", CompressionFormat.ZIP, executor)
    assert caught.value.member == "bad.txt"
    assert not (tmp_path / "out").exists()


def test_gzip_bad_crc(good, tmp_path):
    data = bytearray(good[CompressionFormat.TAR_GZ])
    data[-8] ^= 0x01  # CRC32 of the gzip member
    assert_refused(bytes(data), CompressionFormat.TAR_GZ, tmp_path, "crc")


@pytest.mark.parametrize("actual", ALL_FORMATS, ids=fmt_id)
def test_wrong_extension(good, tmp_path, actual):
    """Bytes of one format read as another (the name lied) are refused, not misread."""
    for claimed in ALL_FORMATS:
        if claimed is actual or (claimed is CompressionFormat.TAR and actual.is_tar):
            continue
        assert_refused(good[actual], claimed, tmp_path, f"{actual.name}-as-{claimed.name}")
    text = tmp_path / "notes.tar.gz"
    text.write_text("just some text, not an archive\n" * 50)
    for fmt in ALL_FORMATS:
        assert outcome(text, fmt, tmp_path / f"text-{fmt.name}") == (False, False)


@pytest.mark.parametrize("fmt", ALL_FORMATS, ids=fmt_id)
def test_zero_length_and_folder_and_missing(tmp_path, fmt):
    empty = tmp_path / f"empty{SUFFIX[fmt]}"
    empty.write_bytes(b"")
    assert outcome(empty, fmt, tmp_path / "out1") == (False, False)
    folder = tmp_path / f"folder{SUFFIX[fmt]}"
    folder.mkdir()
    assert outcome(folder, fmt, tmp_path / "out2") == (False, False)
    missing = tmp_path / f"missing{SUFFIX[fmt]}"
    with pytest.raises(ArchiveError):
        verify_archive(missing, fmt)
    with pytest.raises(ArchiveError) as caught:
        run_extract(missing, tmp_path / "out3", fmt)
    assert not isinstance(caught.value, CorruptArchiveError)
    assert not (tmp_path / "out3").exists()


mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(1, 255)),
    st.tuples(st.just("cut"), st.integers(0, 10**6), st.just(0)),
    st.tuples(st.just("drop"), st.integers(0, 10**6), st.integers(1, 64)),
    st.tuples(st.just("insert"), st.integers(0, 10**6), st.integers(0, 255)),
)


def mutate(data: bytes, mutations: list[tuple[str, int, int]]) -> bytes:
    buffer = bytearray(data)
    for kind, position, value in mutations:
        if not buffer:
            break
        position %= len(buffer)
        if kind == "flip":
            buffer[position] ^= value
        elif kind == "cut":
            del buffer[position:]
        elif kind == "drop":
            del buffer[position : position + value]
        else:
            buffer[position:position] = bytes([value]) * 8
    return bytes(buffer)


@pytest.mark.parametrize("fmt", ALL_FORMATS, ids=fmt_id)
def test_fuzz_mutated_archives(good, tmp_path_factory, fmt):
    root = tmp_path_factory.mktemp(f"fuzz-{fmt.name}")
    counter = iter(range(10**6))

    @settings(
        max_examples=50,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.lists(mutation, min_size=1, max_size=4))
    def check(mutations):
        index = next(counter)
        path = root / f"m{index}{SUFFIX[fmt]}"
        path.write_bytes(mutate(good[fmt], mutations))
        outcome(path, fmt, root / f"out{index}")

    check()


@pytest.mark.skipif(shutil.which("zip") is None, reason="Info-ZIP's zip not installed")
def test_a_zip_record_pointing_outside_the_file_is_named_in_words(tmp_path):
    """Info-ZIP's ``zip -fz -`` to a pipe writes end records that point before the start of
    the file (unzip and 7z refuse it too): refused as damage, said in words, not as a bare
    ``OSError: [Errno 22] Invalid argument``."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("some text\n" * 100)
    piped = subprocess.run(
        "zip -q -fz - a.txt | cat", shell=True, cwd=src, check=True, capture_output=True
    )
    archive = tmp_path / "piped.zip"
    archive.write_bytes(piped.stdout)
    with pytest.raises(CorruptArchiveError, match="a record points outside the file"):
        run_extract(archive, tmp_path / "d", CompressionFormat.ZIP)
    assert not (tmp_path / "d").exists()
    assert not verify_archive(archive, CompressionFormat.ZIP)


def _tar_whose_end_block_is(tmp_path: Path, name: str, end_block: bytes) -> tuple[Path, int]:
    """A plain tar of ``ENTRIES`` whose end-of-archive block is replaced by ``end_block``;
    with where that block starts."""
    data = write_archive(tmp_path / "whole.tar", CompressionFormat.TAR, ENTRIES).read_bytes()
    end = _tar_data_end(data)
    path = tmp_path / name
    path.write_bytes(data[:end] + end_block)
    return path, end


def _zip_with_a_bad_local_header(tmp_path: Path, member: str) -> Path:
    path = write_archive(tmp_path / "sig.zip", CompressionFormat.ZIP, ENTRIES)
    with zipfile.ZipFile(path) as archive:
        offset = archive.getinfo(member).header_offset
    data = bytearray(path.read_bytes())
    data[offset : offset + 4] = b"PK\x00\x00"
    path.write_bytes(bytes(data))
    return path


def _damage_cases(tmp_path: Path) -> list[tuple[Path, CompressionFormat, str]]:
    truncated, _ = _tar_whose_end_block_is(tmp_path, "cut.tar", b"")
    garbage, offset = _tar_whose_end_block_is(tmp_path, "junk.tar", b"x" * 512)
    bad_zip = _zip_with_a_bad_local_header(tmp_path, "tail.txt")
    return [
        (
            truncated,
            CompressionFormat.TAR,
            "cut.tar (tar): tar archive is truncated (no end-of-archive block)",
        ),
        (garbage, CompressionFormat.TAR, f"junk.tar (tar): invalid tar header at offset {offset}"),
        (
            bad_zip,
            CompressionFormat.ZIP,
            "sig.zip (zip): bad local header signature (member 'tail.txt')",
        ),
    ]


def test_damage_messages_start_with_the_archive_name(tmp_path, executor):
    """Messages that named no archive now start with its name and format, once; the
    archive's path is on the error too."""
    for path, fmt, message in _damage_cases(tmp_path):
        report = verify_archive_report(path, fmt, executor)
        assert (report.ok, report.reason) == (False, message)
        with pytest.raises(CorruptArchiveError) as caught:
            run_extract(path, tmp_path / "out", fmt, executor)
        assert str(caught.value) == message
        assert caught.value.archive_path == str(path)


def test_a_file_checksum_mismatch_names_the_archive(tmp_path, executor):
    path = write_archive(tmp_path / "sums.tar.gz", CompressionFormat.TAR_GZ, ENTRIES)
    wrong = {"tail.txt": "0" * 64}
    with pytest.raises(CorruptArchiveError) as caught:
        run_extract(path, tmp_path / "out", CompressionFormat.TAR_GZ, executor, wrong)
    assert str(caught.value).startswith("sums.tar.gz (tar.gz): SHA-256 mismatch: expected 000")
    assert caught.value.archive_path == str(path) and caught.value.member == "tail.txt"
