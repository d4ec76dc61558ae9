"""Shared helpers of the extraction tests: archive builders, tree snapshots, extraction calls.

Archives are described as lists of ``Entry`` and written with ``tarfile`` (any of the four tar
formats) or ``zipfile``; raw byte-level builders make what those modules refuse to write
(overlapping zip entries, a 100 GB declared size, a 1 GiB bomb in a few hundred KB).
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import stat
import struct
import tarfile
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from archive_parallel.config import ArchiveConfig
from archive_parallel.extract import STAGING_PREFIX, extract
from archive_parallel.formats import CompressionFormat
from archive_parallel.integrity import IntegrityPlan

TAR_FORMATS = [
    CompressionFormat.TAR_GZ,
    CompressionFormat.TAR_BZ2,
    CompressionFormat.TAR_XZ,
    CompressionFormat.TAR,
]
ALL_FORMATS = [*TAR_FORMATS, CompressionFormat.ZIP]
SUFFIX = {
    CompressionFormat.TAR_GZ: ".tar.gz",
    CompressionFormat.TAR_BZ2: ".tar.bz2",
    CompressionFormat.TAR_XZ: ".tar.xz",
    CompressionFormat.TAR: ".tar",
    CompressionFormat.ZIP: ".zip",
}
MTIME = 1_600_000_000


@dataclass
class Entry:
    """One member to write. kind: file, dir, symlink, hardlink, chr, fifo."""

    name: str
    kind: str = "file"
    data: bytes = b""
    mode: int = 0o644
    mtime: int = MTIME
    linkname: str = ""


def fmt_id(fmt: CompressionFormat) -> str:
    return fmt.value


def _tar_info(entry: Entry) -> tarfile.TarInfo:
    info = tarfile.TarInfo(entry.name)
    info.mode, info.mtime = entry.mode, entry.mtime
    info.type = {
        "file": tarfile.REGTYPE,
        "dir": tarfile.DIRTYPE,
        "symlink": tarfile.SYMTYPE,
        "hardlink": tarfile.LNKTYPE,
        "chr": tarfile.CHRTYPE,
        "blk": tarfile.BLKTYPE,
        "fifo": tarfile.FIFOTYPE,
    }[entry.kind]
    info.linkname = entry.linkname
    info.size = len(entry.data) if entry.kind == "file" else 0
    if any(ord(c) < 32 for c in entry.name):  # keep NULs: ustar fields would cut them
        info.pax_headers = {"path": entry.name}
    return info


def write_tar_bytes(entries: list[Entry], fmt: CompressionFormat) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for entry in entries:
            archive.addfile(_tar_info(entry), io.BytesIO(entry.data))
    return compress_tar_stream(raw.getvalue(), fmt)


def compress_tar_stream(data: bytes, fmt: CompressionFormat) -> bytes:
    if fmt is CompressionFormat.TAR_GZ:
        return gzip.compress(data, mtime=0)
    if fmt is CompressionFormat.TAR_BZ2:
        return bz2.compress(data)
    if fmt is CompressionFormat.TAR_XZ:
        return lzma.compress(data)
    return data


_ZIP_TYPE = {
    "file": stat.S_IFREG,
    "dir": stat.S_IFDIR,
    "symlink": stat.S_IFLNK,
    "chr": stat.S_IFCHR,
    "blk": stat.S_IFBLK,
    "fifo": stat.S_IFIFO,
}


def write_zip_bytes(entries: list[Entry]) -> bytes:
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry in entries:
            name = entry.name + (
                "/" if entry.kind == "dir" and not entry.name.endswith("/") else ""
            )
            info = zipfile.ZipInfo(name, date_time=(2020, 9, 13, 12, 26, 40))
            info.create_system = 3
            info.external_attr = (_ZIP_TYPE[entry.kind] | entry.mode) << 16
            info.extra = struct.pack("<HHBi", 0x5455, 5, 1, entry.mtime)
            data = entry.linkname.encode() if entry.kind == "symlink" else entry.data
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return raw.getvalue()


def write_archive(path: Path, fmt: CompressionFormat, entries: list[Entry]) -> Path:
    data = (
        write_zip_bytes(entries) if fmt is CompressionFormat.ZIP else write_tar_bytes(entries, fmt)
    )
    path.write_bytes(data)
    return path


# --- snapshots ---
def snapshot(root: Path) -> dict[str, tuple]:
    """Every entry under root: kind, content or target, mode, mtime (ns)."""
    found: dict[str, tuple] = {}
    if not root.exists() and not root.is_symlink():
        return found
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            info = path.lstat()
            rel = str(path.relative_to(root))
            if stat.S_ISLNK(info.st_mode):
                found[rel] = ("link", os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                found[rel] = ("dir", info.st_mode, info.st_mtime_ns)
            else:
                found[rel] = ("file", path.read_bytes(), info.st_mode, info.st_mtime_ns)
    return found


def staging_leftovers(dest: Path) -> list[str]:
    if not dest.is_dir():
        return []
    return [p.name for p in dest.iterdir() if p.name.startswith(STAGING_PREFIX)]


@dataclass
class Workspace:
    root: Path
    dest: Path
    sentinel: Path

    def archive(self, fmt: CompressionFormat, entries: list[Entry], name: str = "a") -> Path:
        return write_archive(self.root / f"{name}{SUFFIX[fmt]}", fmt, entries)


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """A destination and a sentinel folder beside it (holding a file and a sub-folder)."""
    sentinel = tmp_path / "sentinel"
    (sentinel / "inner").mkdir(parents=True)
    (sentinel / "secret.txt").write_text("do not touch")
    (sentinel / "inner" / "keep.txt").write_text("keep")
    os.utime(sentinel / "secret.txt", (1, 1))
    return Workspace(tmp_path, tmp_path / "dest", sentinel)


@pytest.fixture(scope="module")
def executor():
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="test-extract")
    yield pool
    pool.shutdown(wait=True)


def run_extract(
    archive: Path,
    dest: Path,
    fmt: CompressionFormat,
    executor=None,
    expected_checksums=None,
    progress=None,
    **config,
):
    options = {"parallel_batch_size": 3, "thread_pool_size": 2}
    options.update(config)
    return extract(
        archive,
        dest,
        fmt,
        ArchiveConfig(**options),
        executor,
        IntegrityPlan(file_sha256=expected_checksums),
        progress=progress,
    )


# --- raw builders ---
def zeros_gzip_member(size: int = 1 << 20) -> bytes:
    return gzip.compress(bytes(size), compresslevel=9, mtime=0)


def bomb_tar_gz(path: Path, total: int, name: str = "zeros.bin") -> Path:
    """A tar.gz of one ``total``-byte member of zeros, as concatenated gzip members (~1 KB/MiB)."""
    assert total % (1 << 20) == 0
    header = tarfile.TarInfo(name)
    header.size, header.mtime = total, MTIME
    chunk = zeros_gzip_member()
    with open(path, "wb") as out:
        out.write(gzip.compress(header.tobuf(tarfile.GNU_FORMAT), mtime=0))
        for _ in range(total >> 20):
            out.write(chunk)
        out.write(gzip.compress(bytes(2 * 512), mtime=0))
    return path


def bomb_zip(path: Path, total: int, name: str = "zeros.bin", count: int = 1) -> Path:
    """A zip of ``count`` members of ``total`` zeros each, deflate built from one repeated block."""
    mib = 1 << 20
    assert total % mib == 0
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(mib)) + compressor.flush(zlib.Z_FULL_FLUSH)
    body = block * (total // mib) + zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    crc = 0
    zero = bytes(mib)
    for _ in range(total // mib):
        crc = zlib.crc32(zero, crc)
    entries = [(f"{i}-{name}" if count > 1 else name).encode() for i in range(count)]
    return raw_zip(path, [(n, body, total, crc, zipfile.ZIP_DEFLATED) for n in entries])


def raw_zip(
    path: Path,
    members: list[tuple[bytes, bytes, int, int, int]],
    offsets_override: dict[int, int] | None = None,
    declared_override: dict[int, int] | None = None,
) -> Path:
    """Write a zip by hand: (name, stored data, uncompressed size, crc, method) per member.

    ``offsets_override`` points central entries at other local headers (overlaps);
    ``declared_override`` declares other uncompressed sizes, through a zip64 extra field.
    """
    offsets_override = offsets_override or {}
    declared_override = declared_override or {}
    out = io.BytesIO()
    offsets = []
    for name, data, size, crc, method in members:
        offsets.append(out.tell())
        out.write(
            struct.pack(
                "<4sHHHHHIIIHH",
                b"PK\x03\x04",
                20,
                0,
                method,
                0,
                0x21,
                crc,
                len(data),
                size,
                len(name),
                0,
            )
        )
        out.write(name)
        out.write(data)
    central_start = out.tell()
    for index, (name, data, size, crc, method) in enumerate(members):
        extra = b""
        declared = declared_override.get(index, size)
        size_field = size
        if index in declared_override:
            extra = struct.pack("<HHQ", 1, 8, declared)
            size_field = 0xFFFFFFFF
        out.write(
            struct.pack(
                "<4sHHHHHHIIIHHHHHII",
                b"PK\x01\x02",
                20,
                20,
                0,
                method,
                0,
                0x21,
                crc,
                len(data),
                size_field,
                len(name),
                len(extra),
                0,
                0,
                0,
                0o100644 << 16,
                offsets_override.get(index, offsets[index]),
            )
        )
        out.write(name)
        out.write(extra)
    central_size = out.tell() - central_start
    out.write(
        struct.pack(
            "<4sHHHHIIH",
            b"PK\x05\x06",
            0,
            0,
            len(members),
            len(members),
            central_size,
            central_start,
            0,
        )
    )
    path.write_bytes(out.getvalue())
    return path
